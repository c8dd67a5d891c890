// What the post step reads of main's state, under the names main saved it with.
import { describe, expect, jest, test } from '@jest/globals';

const state = new Map<string, string>();
jest.unstable_mockModule('@actions/core', () => ({
  saveState: (name: string, value: string) => state.set(name, value),
  getState: (name: string) => state.get(name) ?? '',
}));
const { isPost, markMainStarted, saveWorkDir, workDir } = await import('../../src/runner/state.js');

describe('main and post agree on the state', () => {
  test('before main: not the post step, no work directory', () => {
    expect(isPost()).toBe(false);
    expect(workDir()).toBe('');
  });

  test('after main: the post step, and the work directory main saved', () => {
    markMainStarted();
    saveWorkDir('/home/runner/work/_temp/ecr-swarm-deploy-abc');
    expect(isPost()).toBe(true);
    expect(workDir()).toBe('/home/runner/work/_temp/ecr-swarm-deploy-abc');
  });
});
