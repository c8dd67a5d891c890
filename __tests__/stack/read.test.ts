// The deploy file, read back through a docker CLI stand-in that answers as docker 28 did.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import type { DockerCli } from '../../src/runner/docker.js';
import type { RunResult } from '../../src/runner/exec.js';
import { parseRendering } from '../../src/stack/document.js';
import { writeDeployFile } from '../../src/stack/read.js';

/** A CLI whose stack commands answer result (each call, or the next of a list). */
function cli(...results: Partial<RunResult>[]) {
  const stack = jest.fn<(args: string[], variables: Record<string, string>) => Promise<RunResult>>();
  for (const r of results) stack.mockResolvedValueOnce({ stdout: '', stderr: '', exitCode: 0, ...r });
  return { cli: { stack } as unknown as DockerCli, stack };
}

describe('writeDeployFile', () => {
  const doc = parseRendering('services:\n  app:\n    image: a\n    environment: { PRICE: "costs $5" }\n');
  const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-')), 'stack.json');

  test('written 0600 with $ doubled, then read back by docker: the same document passes', async () => {
    const { cli: docker, stack } = cli({
      stdout: 'version: "3.13"\nservices:\n  app:\n    image: a\n    environment:\n      PRICE: costs $5\n',
    });
    const written = file();
    await writeDeployFile(docker, { doc: { version: '3.13', ...doc }, variables: { A: '1' } }, written);
    expect(fs.statSync(written).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(written, 'utf8')).toContain('"PRICE": "costs $$5"');
    expect(stack.mock.calls[0].slice(0, 2)).toEqual([['config', '-c', written], { A: '1' }]);
  });

  test('a document docker reads back otherwise stops the run before anything is deployed', async () => {
    const { cli: docker } = cli({
      stdout: 'services:\n  app:\n    image: a\n    environment:\n      PRICE: costs\n',
    });
    const written = file();
    await expect(writeDeployFile(docker, { doc, variables: {} }, written)).rejects.toThrow(
      `the stack written for docker stack deploy (${written}) reads back otherwise at services.app.environment.PRICE: nothing was deployed`,
    );
  });
});
