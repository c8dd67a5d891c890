import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import type { DockerCli } from '../../src/runner/docker.js';

/** A docker CLI whose build --help lists --secret when buildKit says so (buildx installed), given the call's environment. */
export function fakeDocker({
  buildKit = (env: Record<string, string>): boolean => env.BUILDX === 'installed',
  env = {} as Record<string, string>,
  /** Commands (by their start) that fail, and builds whose output shows a step from the cache. */
  fails = [] as string[],
  cached = [] as string[],
} = {}) {
  const run = jest.fn(
    async (args: string[], options: { env?: Record<string, string> } = {}, allowFailure = false) => {
      const callEnv = { ...env, ...options.env };
      const command = args.join(' ');
      if (args[0] === 'build' && args[1] === '--help')
        return {
          exitCode: 0,
          stdout: buildKit(callEnv) ? '  --secret stringArray\n' : '  --cache-from\n',
          stderr: '',
        };
      if (args[0] === 'image') {
        const repo = args.at(-1)!.replace(/:[^:/]*$/, '');
        return { exitCode: 0, stdout: JSON.stringify([`${repo}@sha256:abc`]), stderr: '' };
      }
      const failed = fails.some((f) => command.startsWith(f));
      const result = {
        exitCode: failed ? 1 : 0,
        stdout: cached.some((c) => command.startsWith(c)) ? 'Step 2/3 : RUN make\n ---> Using cache\n' : '',
        stderr: failed ? 'manifest unknown' : '',
      };
      if (failed && !allowFailure) throw new Error(`docker ${args[0]} failed: ${result.stderr}`);
      return result;
    },
  );
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'work-'));
  return {
    run,
    work,
    docker: {
      run,
      env: () => ({ ...env }),
      configDir: path.join(work, 'docker-config'),
    } as unknown as DockerCli,
  };
}
