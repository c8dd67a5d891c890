// docker stack config, asked through a docker CLI stand-in that answers as docker 28 did.
import path from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import type { DockerCli } from '../../src/runner/docker.js';
import type { RunResult } from '../../src/runner/exec.js';
import { renderStack } from '../../src/stack/render.js';

/** A CLI whose stack commands answer result (each call, or the next of a list). */
function cli(...results: Partial<RunResult>[]) {
  const stack = jest.fn<(args: string[], variables: Record<string, string>) => Promise<RunResult>>();
  for (const r of results) stack.mockResolvedValueOnce({ stdout: '', stderr: '', exitCode: 0, ...r });
  return { cli: { stack } as unknown as DockerCli, stack };
}

const ENV_FILE_ERROR =
  'invalid env file (/home/runner/.credentials): variable \'"clientSecret": "s3cr3t"\' contains whitespaces';

describe('renderStack', () => {
  test('docker stack config -c each file, with the variables alone; its output read', async () => {
    const { cli: docker, stack } = cli({ stdout: 'version: "3.13"\nservices:\n  app:\n    image: a\n' });
    const doc = await renderStack(docker, ['a.yml', 'b.yml'], { APP_VERSION: 'v1' });
    expect(doc.services).toEqual({ app: { image: 'a' } });
    // Absolute: docker would resolve a relative one from $PWD, which a stack variable could set.
    expect(stack.mock.calls[0].slice(0, 2)).toEqual([
      ['config', '-c', path.resolve('a.yml'), '-c', path.resolve('b.yml')],
      { APP_VERSION: 'v1' },
    ]);
  });

  test('a rendering our reader would take otherwise than docker wrote it is refused, quoting none of it', async () => {
    // What docker 28 printed for environment: {"\nSECRET_ENV": ""} beside an env_file with SECRET_ENV:
    // Go's encoder dropped the key's line break, so a reader sees SECRET_ENV twice.
    const { cli: docker } = cli({
      stdout:
        'services:\n  app:\n    environment:\n      ? |2-\n        SECRET_ENV\n      : ""\n      SECRET_ENV: from-a-runner-file\n',
    });
    const error = await renderStack(docker, ['stack.yml'], {}, { preview: true }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^docker's rendering of the stack could not be read \(\w+\)$/);
    const binary = cli({ stdout: 'services:\n  app:\n    labels: { a: !!binary aGVsbG8= }\n' });
    await expect(renderStack(binary.cli, ['stack.yml'], {})).rejects.toThrow(
      "docker's rendering of the stack holds a value that is not text at services.app.labels.a",
    );
  });

  test("deploy: docker's refusal is the message", async () => {
    const { cli: docker } = cli({ exitCode: 1, stderr: 'services.app.ports.0.published must be a integer' });
    await expect(renderStack(docker, ['stack.yml'], {})).rejects.toThrow(
      'stack-file "stack.yml": docker stack config refused it: services.app.ports.0.published must be a integer',
    );
  });

  test("preview: a refusal that may quote a runner's file (an env_file) is not shown", async () => {
    const { cli: docker } = cli({ exitCode: 1, stderr: ENV_FILE_ERROR });
    const error = await renderStack(docker, ['stack.yml'], {}, { preview: true }).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      'stack-file "stack.yml": docker stack config could not read a file the stack names for a service\'s environment; its message is not shown in a preview, where it could quote a file of the runner (run docker stack config -c … on the pull request\'s branch to see it)',
    );
    expect((error as Error).message).not.toContain('s3cr3t');
  });

  test('preview: any other refusal is shown as docker gave it', async () => {
    const { cli: docker } = cli({ exitCode: 1, stderr: 'yaml: line 3: did not find expected key' });
    await expect(renderStack(docker, ['stack.yml'], {}, { preview: true })).rejects.toThrow(
      'docker stack config refused it: yaml: line 3: did not find expected key',
    );
  });
});
