// A user's own app, not the fixture: the notes API (e2e/fixture-notes) on port 3000, whose image's
// ENTRYPOINT always starts the server, a one-shot db-setup, docker-compose.prod.yml, and smoke tests
// in a test image of their own that the workflow builds and pushes before the deploy step. The
// bundled dist/ run as the runner runs it, against the sandbox's Swarm, registry, sshd and ECR emulator.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  createRepository,
  expectTidy,
  inputs,
  manager,
  randomSha,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  type RunResult,
} from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'notes';
const PORT = 8500;
const NOTES = path.join(repoRoot, 'e2e/fixture-notes');
const short = (sha: string) => sha.slice(0, 7);

/** The notes app's repository: its Dockerfile, stack file and scripts over the workspace's. */
const notesFiles = (): Record<string, string> =>
  Object.fromEntries(
    ['Dockerfile', 'docker-compose.prod.yml', 'bin/notes', 'bin/notes-http', 'bin/db-setup'].map((name) => [
      name,
      fs.readFileSync(path.join(NOTES, name), 'utf8'),
    ]),
  );

/** The step's with: for the notes app; the test containers on the runner engine's own network. */
const notesInputs = (extra: Record<string, string>) =>
  inputs({
    'ecr-repository': 'notes',
    'stack-name': STACK,
    'stack-file': 'docker-compose.prod.yml',
    'stack-secrets': '',
    'one-shot-services': 'db-setup',
    'app-url': `http://${sb.APP_HOST}:${PORT}`,
    'acceptance-args': '',
    ...extra,
  });

/** docker on the runner's engine (with its own configuration directory, say). */
const runnerDocker = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, ...args], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/**
 * What a workflow's step before this one does: builds the notes app's test image (Dockerfile.tests)
 * with the runner's docker and pushes it to the registry with credentials of its own. The runner's
 * engine is then left without it, so the action must pull it. Returns its reference.
 */
function pushTestImage(tag: string): string {
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'notes-tests-'));
  const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
  const auth = Buffer.from(`AWS:${password}`).toString('base64');
  fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [sb.REGISTRY]: { auth } } }), {
    mode: 0o600,
  });
  const docker = (...args: string[]) => runnerDocker(args, { ...process.env, DOCKER_CONFIG: config });
  const ref = `${sb.REGISTRY}/notes-tests:${tag}`;
  try {
    docker('build', '--quiet', '--file', path.join(NOTES, 'Dockerfile.tests'), '--tag', ref, NOTES);
    docker('push', ref);
    docker('image', 'rm', ref);
    return ref;
  } finally {
    fs.rmSync(config, { recursive: true, force: true });
  }
}

/** The step's error, as the runner shows its annotation (::error:: with %0A for each line break). */
const stepError = (r: RunResult) =>
  (r.lines.find((l) => l.text.startsWith('::error::'))?.text ?? '')
    .replace(/^::error::/, '')
    .replaceAll('%0A', '\n');

/** docker commands the action ran (the runner logs each as [command]). */
const commands = (log: string, verb: string) =>
  log.split('\n').filter((l) => new RegExp(`^\\[command\\]\\S*docker ${verb} `).test(l));

beforeAll(async () => {
  // As a user does before the first push.
  await createRepository('notes');
  await removeStack(STACK);
});

/** The runner engine's images of the app and its tests, and the stack's volume on the manager. */
function removeLeftovers(): void {
  const ids = runnerDocker(['images', '--format', '{{.Repository}} {{.ID}}'])
    .split('\n')
    .filter((l) =>
      [`${sb.REGISTRY}/notes `, `${sb.REGISTRY}/notes-tests `].some((repo) => l.startsWith(repo)),
    )
    .map((l) => l.split(' ')[1]);
  if (ids.length > 0) runnerDocker(['rmi', '--force', ...new Set(ids)]);
  manager(['volume', 'rm', '--force', `${STACK}_data`]);
}

afterAll(async () => {
  await removeStack(STACK);
  removeLeftovers();
});

describe('a user app unlike the fixture: notes', () => {
  test('1. deployed with db-setup as its one-shot, tested from a separate test image that the runner pulls', async () => {
    const sha = randomSha();
    const testImage = pushTestImage(short(sha));
    const r = await run({
      inputs: notesInputs({ 'acceptance-image': testImage, 'acceptance-command': 'bats /tests/smoke.bats' }),
      files: notesFiles(),
      sha,
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({
      image: `${sb.REGISTRY}/notes:${short(sha)}`,
      stack: STACK,
      migrate: 'complete',
      'tests-passed-count': '3',
      'tests-failed-count': '0',
    });
    expect(JSON.parse(r.outputs['one-shots'])).toMatchObject({ 'db-setup': { result: 'complete' } });
    expect(commands(r.log, 'pull')).toEqual([expect.stringMatching(new RegExp(`docker pull ${testImage}$`))]);
    expect(commands(r.log, 'run')).toEqual([
      expect.stringMatching(new RegExp(` ${testImage} bats /tests/smoke.bats$`)),
    ]);
    expect(
      (await service(`${STACK}_api`)).Spec.TaskTemplate.ContainerSpec.Image.startsWith(
        `${sb.REGISTRY}/notes:${short(sha)}@`,
      ),
    ).toBe(true);
    expect(r.summary).toContain('| Pull test image | ✅ ok |');
    expect(r.summary).toContain('### Acceptance tests: 3 passed, 0 failed');
    expect(r.summary).toContain('| 3 | a note is created, read and deleted | ✅ pass |');
    expectTidy(r);
  });

  test('2. the default acceptance-command in the app image, whose ENTRYPOINT starts the server: the timeout shows what the container printed', async () => {
    const r = await run({
      inputs: notesInputs({ 'acceptance-timeout': '20' }),
      files: notesFiles(),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.migrate).toBe('complete');
    const problem =
      "the tests did not finish within acceptance-timeout (20s) and printed no TAP: if the image's ENTRYPOINT starts the app instead of running acceptance-command, set acceptance-entrypoint";
    const printed = 'notes: ignoring arguments: bats /app/src/acceptance.bats\nnotes: listening on :3000';
    expect(stepError(r)).toBe(
      `acceptance tests failed: ${problem}\nLast lines the test container printed (output, then errors):\n${printed}`,
    );
    expect(r.summary).toContain(`**Failure:** acceptance tests failed: ${problem}\n`);
    expect(r.summary).toContain(
      `<summary>Last lines the test container printed (output, then errors)</summary>\n\n\`\`\`text\n${printed}\n\`\`\``,
    );
    expect(r.summary).toMatch(/\| Acceptance tests \| ❌ failed \| \+[\d.]+ s \| 2\d\.\d s \|/);
    expectTidy(r);
  });

  test('3. a test command that exits early without TAP (a wrong path): the exit code and the last lines it printed', async () => {
    const sha = randomSha();
    const testImage = pushTestImage(short(sha));
    const r = await run({
      inputs: notesInputs({
        'acceptance-image': testImage,
        'acceptance-entrypoint': 'bash',
        'acceptance-command': '-c "cd /app/src && bats acceptance.bats"',
      }),
      files: notesFiles(),
      sha,
    });
    expect(r.exitCode).toBe(1);
    expect(commands(r.log, 'run')).toEqual([
      expect.stringMatching(
        new RegExp(` --entrypoint bash ${testImage} -c 'cd /app/src && bats acceptance.bats'$`),
      ),
    ]);
    const printed = 'bash: line 1: cd: /app/src: No such file or directory';
    expect(stepError(r)).toMatch(
      /^acceptance tests failed: no TAP test results in the output \(exit code 1\): acceptance-command must print TAP/,
    );
    expect(stepError(r)).toContain(
      `\nLast lines the test container printed (output, then errors):\n${printed}`,
    );
    expect(r.summary).toContain('**no TAP test results in the output (exit code 1)');
    expect(r.summary).toContain(`\`\`\`text\n${printed}\n\`\`\``);
    expectTidy(r);
  });
});
