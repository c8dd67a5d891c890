import { describe, expect, test } from '@jest/globals';
import { runnerProblems } from '../src/runner/preflight.js';

describe('runnerProblems: what the runner must have before anything starts', () => {
  test('a Linux runner with docker on PATH is fine', async () => {
    expect(await runnerProblems('linux', async () => '/bin/true')).toEqual([]);
  });

  test('another OS is refused, naming the runner to use', async () => {
    expect(await runnerProblems('win32', async () => 'C:\\docker.exe')).toEqual([
      'this action runs on Linux runners (runs-on: ubuntu-latest, or a self-hosted Linux runner with docker), not on win32',
    ]);
  });

  test('no docker CLI is refused, naming the fix', async () => {
    expect(await runnerProblems('linux', async () => '')).toEqual([
      'no docker CLI on PATH: run the job on ubuntu-latest (it has docker), or install docker on the self-hosted runner',
    ]);
  });
});
