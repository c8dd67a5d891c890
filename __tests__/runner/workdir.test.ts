import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { createWorkDir, removeWorkDir } from '../../src/runner/workdir.js';

describe('work directory', () => {
  test('is private (0700) and removed whole', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-temp-'));
    const w = createWorkDir(base);
    for (const d of [w.root, w.dockerConfig, w.tunnel]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    fs.writeFileSync(path.join(w.dockerConfig, 'config.json'), '{}');
    expect(removeWorkDir(w.root)).toBe(true);
    expect(fs.readdirSync(base)).toEqual([]);
    expect(removeWorkDir(w.root)).toBe(false);
  });

  test('the credentials directory is 0700 whatever the umask', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-temp-'));
    const umask = process.umask(0o277);
    try {
      const w = createWorkDir(base);
      for (const d of [w.root, w.dockerConfig, w.tunnel]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
      removeWorkDir(w.root);
    } finally {
      process.umask(umask);
    }
  });

  test('refuses to remove anything it did not make', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'precious-'));
    expect(removeWorkDir(other)).toBe(false);
    expect(removeWorkDir('')).toBe(false);
    expect(fs.existsSync(other)).toBe(true);
  });
});
