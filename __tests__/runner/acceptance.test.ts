import { describe, expect, test } from '@jest/globals';
import { judgeAcceptance, lastLines, pullTestImage, runAcceptance } from '../../src/runner/acceptance.js';
import type { DockerCli } from '../../src/runner/docker.js';

// TAP as bats 1.8 prints it (captured from the fixture's suite in the sandbox).
const passing = `1..3
ok 1 root answers 200
ok 2 todo list is a JSON array
ok 3 create a todo # skip no database
`;

const failing = `1..3
ok 1 root answers 200
not ok 2 update a todo with PATCH
# (in test file /app/src/acceptance.bats, line 56)
#   \`[ "$status" = 200 ]' failed
ok 3 delete a todo
`;

describe('judgeAcceptance', () => {
  test('all passing (a skip is not a failure)', () => {
    const r = judgeAcceptance(passing, 0);
    expect(r).toMatchObject({ ok: true, passed: 2, failed: 0, skipped: 1 });
    expect(r.tests.map((t) => [t.id, t.name, t.result])).toEqual([
      [1, 'root answers 200', 'pass'],
      [2, 'todo list is a JSON array', 'pass'],
      [3, 'create a todo', 'skip'],
    ]);
  });

  test('a failing test is named, with the lines bats printed about it', () => {
    const r = judgeAcceptance(failing, 1);
    expect(r).toMatchObject({ ok: false, passed: 2, failed: 1 });
    expect(r.problem).toBeUndefined();
    expect(r.tests[1]).toEqual({
      id: 2,
      name: 'update a todo with PATCH',
      result: 'fail',
      details: ['(in test file /app/src/acceptance.bats, line 56)', '  `[ "$status" = 200 ]\' failed'],
    });
  });

  test.each([
    ['no TAP at all', 'Error: No such file\n', 127, /no TAP test results/],
    ['fewer tests than planned', '1..7\nnot ok 1 setup_file failed\n', 1, /ran 1 of 7 planned tests/],
    ['passing tests but a non-zero exit', '1..1\nok 1 fine\n', 2, /exited with code 2/],
    ['bail out', '1..2\nok 1 a\nBail out! db is down\n', 1, /bailed out: db is down/],
  ])('%s fails', (_name, tap, code, problem) => {
    const r = judgeAcceptance(tap, code);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatch(problem);
  });
});

describe('a test run that explains nothing by itself', () => {
  test('a timeout is the problem, with the entrypoint hint when no TAP came', () => {
    const r = judgeAcceptance('notes: ignoring arguments: bats /app/src/acceptance.bats\n', 137, 20);
    expect(r.ok).toBe(false);
    expect(r.problem).toBe(
      "the tests did not finish within acceptance-timeout (20s) and printed no TAP: if the image's ENTRYPOINT starts the app instead of running acceptance-command, set acceptance-entrypoint",
    );
    expect(judgeAcceptance('1..2\nok 1 a\n', 137, 20).problem).toBe(
      'the tests did not finish within acceptance-timeout (20s)',
    );
  });

  test('no TAP names the exit code, acceptance-command and acceptance-entrypoint', () => {
    expect(judgeAcceptance('', 2).problem).toBe(
      "no TAP test results in the output (exit code 2): acceptance-command must print TAP (as bats does); if the image's ENTRYPOINT starts the app instead of running acceptance-command, set acceptance-entrypoint",
    );
  });

  test('the last lines: output, then errors, blank lines left out, at most the count', () => {
    expect(lastLines('1..3\nok 1 a\n\n', 'bash: cd: /app/src: No such file or directory\n', 20)).toBe(
      '1..3\nok 1 a\nbash: cd: /app/src: No such file or directory',
    );
    const many = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
    expect(lastLines(many, 'error', 3)).toBe('line 29\nline 30\nerror');
    expect(lastLines('', '', 20)).toBe('');
  });
});

/** A runner-side docker whose `docker run` prints stdout and stderr and exits with code, or runs until removed. */
function fakeDocker(printed: { stdout: string; stderr: string; exitCode?: number }) {
  const calls: string[][] = [];
  let removed = () => {};
  const run = (args: string[]) => {
    calls.push(args);
    if (args[0] === 'rm') removed();
    if (args[0] !== 'run') return Promise.resolve({ stdout: '', stderr: '', exitCode: 0 });
    const exited = { ...printed, exitCode: printed.exitCode ?? 137 };
    if (printed.exitCode !== undefined) return Promise.resolve(exited);
    return new Promise((resolve) => (removed = () => resolve(exited)));
  };
  return { calls, docker: { run } as unknown as DockerCli };
}

const testRun = {
  image: 'reg/notes:abc1234',
  url: 'http://lb:8500',
  command: ['/tests/smoke.bats'],
  args: [],
};

describe('runAcceptance', () => {
  test('acceptance-entrypoint goes to docker run --entrypoint, before acceptance-args and the image', async () => {
    const { calls, docker } = fakeDocker({ stdout: '1..1\nok 1 a note\n', stderr: '', exitCode: 0 });
    const r = await runAcceptance(docker, {
      ...testRun,
      entrypoint: 'bats',
      args: ['--network', 'host'],
      timeout: 60,
    });
    expect(r.ok).toBe(true);
    expect(r.output).toBeUndefined();
    const [run] = calls;
    expect(run.slice(run.indexOf('--entrypoint'))).toEqual([
      '--entrypoint',
      'bats',
      '--network',
      'host',
      'reg/notes:abc1234',
      '/tests/smoke.bats',
    ]);
    expect(run).toContain('APP_URL=http://lb:8500');
  });

  test("without acceptance-entrypoint, the image's own", async () => {
    const { calls, docker } = fakeDocker({ stdout: '1..1\nok 1 a\n', stderr: '', exitCode: 0 });
    await runAcceptance(docker, { ...testRun, timeout: 60 });
    expect(calls[0]).not.toContain('--entrypoint');
    expect(calls[0].slice(-2)).toEqual(['reg/notes:abc1234', '/tests/smoke.bats']);
  });

  test('an early exit without TAP keeps the last lines the container printed', async () => {
    const { docker } = fakeDocker({
      stdout: '',
      stderr: 'bash: line 1: cd: /app/src: No such file or directory\n',
      exitCode: 1,
    });
    const r = await runAcceptance(docker, { ...testRun, timeout: 60 });
    expect(r.problem).toMatch(/^no TAP test results in the output \(exit code 1\)/);
    expect(r.output).toBe('bash: line 1: cd: /app/src: No such file or directory');
  });

  test('at the timeout the container is removed, and what it printed is kept', async () => {
    const { calls, docker } = fakeDocker({
      stdout: 'notes: ignoring arguments: bats /app/src/acceptance.bats\nnotes: listening on :3000\n',
      stderr: '',
    });
    const r = await runAcceptance(docker, { ...testRun, timeout: 0.05 });
    expect(calls.map((c) => c[0])).toEqual(['run', 'rm']);
    expect(r.problem).toMatch(
      /^the tests did not finish within acceptance-timeout \(0.05s\) and printed no TAP/,
    );
    expect(r.output).toBe(
      'notes: ignoring arguments: bats /app/src/acceptance.bats\nnotes: listening on :3000',
    );
  });

  test('failing tests explain themselves: no output kept', async () => {
    const { docker } = fakeDocker({ stdout: failing, stderr: '', exitCode: 1 });
    expect((await runAcceptance(docker, { ...testRun, timeout: 60 })).output).toBeUndefined();
  });
});

describe('pullTestImage', () => {
  test("a test image the runner cannot pull fails naming acceptance-image and docker's reason", async () => {
    const run = () =>
      Promise.resolve({
        stdout: '',
        stderr: 'Error response from daemon: manifest for reg/notes-tests:nope not found: manifest unknown\n',
        exitCode: 1,
      });
    await expect(pullTestImage({ run } as unknown as DockerCli, 'reg/notes-tests:nope')).rejects.toThrow(
      'acceptance-image reg/notes-tests:nope could not be pulled: Error response from daemon: manifest for reg/notes-tests:nope not found: manifest unknown; push it before this step, to the registry this run logs in to or to a public one',
    );
  });
});
