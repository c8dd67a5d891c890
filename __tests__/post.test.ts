import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, jest, test } from '@jest/globals';

const info = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({
  info,
  getState: (name: string) => process.env[`STATE_${name}`] ?? '',
}));
const { runPost } = await import('../src/post.js');
const { createWorkDir } = await import('../src/runner/workdir.js');

afterEach(() => {
  delete process.env.STATE_workDir;
});

describe('post step', () => {
  test('removes the work directory main left behind (credentials, socket)', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-temp-'));
    const w = createWorkDir(base);
    fs.writeFileSync(path.join(w.dockerConfig, 'config.json'), '{"auths":{}}');
    process.env.STATE_workDir = w.root;
    runPost();
    expect(fs.existsSync(w.root)).toBe(false);
    expect(info).toHaveBeenLastCalledWith(expect.stringMatching(/^Removed .*ecr-swarm-deploy-/));
  });

  test('copes with main having made nothing, or having cleaned up itself', () => {
    runPost();
    expect(info).toHaveBeenLastCalledWith('Nothing to clean up: the main step created no work directory.');
    process.env.STATE_workDir = path.join(os.tmpdir(), 'ecr-swarm-deploy-gone');
    runPost();
    expect(info).toHaveBeenLastCalledWith(expect.stringMatching(/^Already clean/));
  });
});
