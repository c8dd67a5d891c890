import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { workspaceFileProblem } from '../../src/config/workspace.js';

/** A workspace with a stack file, a .git folder, and a file outside beside it. */
function workspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'workspace-'));
  const dir = path.join(root, 'checkout');
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'stack.yml'), 'services: {}\n');
  fs.writeFileSync(path.join(dir, '.git', 'config'), '[http]\n');
  fs.writeFileSync(path.join(root, 'credentials'), 'secret\n');
  return { root, dir, where: { dir, workspace: dir } };
}

describe('workspaceFileProblem: what a preview may have the runner read', () => {
  test('a file of the workspace: no problem', () => {
    const { where } = workspace();
    expect(workspaceFileProblem('stack.yml', where)).toBeUndefined();
    expect(workspaceFileProblem('./stack.yml', where)).toBeUndefined();
  });

  test.each<[string, string]>([
    ['missing.yml', 'which does not exist in the workspace'],
    ['../credentials', 'which is outside the workspace'],
    ['.git/config', 'which is in a .git folder'],
  ])('%s: %s', (file, problem) => {
    const { where } = workspace();
    expect(workspaceFileProblem(file, where)).toBe(problem);
  });

  test('a symbolic link is followed: one out of the workspace is outside, whatever its name', () => {
    const { root, dir, where } = workspace();
    fs.symlinkSync(path.join(root, 'credentials'), path.join(dir, 'env.txt'));
    fs.symlinkSync('/', path.join(dir, 'root'));
    expect(workspaceFileProblem('env.txt', where)).toBe('which is outside the workspace');
    expect(workspaceFileProblem('root/tmp', where)).toBe('which is outside the workspace');
  });
});
