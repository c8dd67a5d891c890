import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { runnerProblems } from '../../src/runner/preflight.js';

/** A docker CLI that prints version for `docker version` and, if it has it, `docker stack config`'s help. */
function fakeDocker(version: string, { stackConfig }: { stackConfig: boolean }): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'docker-')), 'docker');
  const help = stackConfig
    ? '  -c, --compose-file strings   Path to a Compose file'
    : 'Usage:  docker stack COMMAND';
  fs.writeFileSync(
    file,
    `#!/bin/sh\ncase "$1 $2" in\n  "version --format") echo ${version} ;;\n  "stack config") echo '${help}' ;;\nesac\n`,
    { mode: 0o755 },
  );
  return file;
}

const stacks = { rendersStacks: true };

describe('runnerProblems: what the runner must have before anything starts', () => {
  test('a Linux runner with a docker CLI that renders stacks is fine', async () => {
    const docker = fakeDocker('28.2.2', { stackConfig: true });
    expect(await runnerProblems(stacks, 'linux', async () => docker)).toEqual([]);
  });

  test('a docker CLI without docker stack config (20.10) is refused when the mode deploys a stack, naming the fix', async () => {
    const docker = fakeDocker('20.10.24+dfsg1', { stackConfig: false });
    expect(await runnerProblems(stacks, 'linux', async () => docker)).toEqual([
      `the docker CLI at ${docker} (20.10.24+dfsg1) has no "docker stack config", which the action reads the stack file with, as docker itself will deploy it (docker 23 and later have it): run the job on ubuntu-latest, or install docker-ce-cli 23 or later on the self-hosted runner`,
    ]);
  });

  test('a teardown renders no stack: any docker CLI will do', async () => {
    const docker = fakeDocker('20.10.24+dfsg1', { stackConfig: false });
    expect(await runnerProblems({ rendersStacks: false }, 'linux', async () => docker)).toEqual([]);
  });

  test('another OS is refused, naming the runner to use', async () => {
    expect(await runnerProblems(stacks, 'win32', async () => 'C:\\docker.exe')).toEqual([
      'this action runs on Linux runners (runs-on: ubuntu-latest, or a self-hosted Linux runner with docker), not on win32',
    ]);
  });

  test('no docker CLI is refused, naming the fix', async () => {
    expect(await runnerProblems(stacks, 'linux', async () => '')).toEqual([
      'no docker CLI on PATH: run the job on ubuntu-latest (it has docker), or install docker on the self-hosted runner',
    ]);
  });
});
