import { execFileSync } from 'node:child_process';
import { describe, expect, jest, test } from '@jest/globals';
import { CommandError, run } from '../../src/runner/exec.js';

describe('run', () => {
  test('captures output and feeds stdin', async () => {
    const r = await run('sh', ['-c', 'cat; echo err >&2'], { input: 'from stdin', silent: true });
    expect(r).toEqual({ stdout: 'from stdin', stderr: 'err\n', exitCode: 0 });
  });

  test('a failure carries the exit code and the last lines of stderr', async () => {
    const failing = run('sh', ['-c', 'echo first >&2; echo "denied: wrong password" >&2; exit 3'], {
      silent: true,
    });
    await expect(failing).rejects.toBeInstanceOf(CommandError);
    await expect(failing).rejects.toThrow('sh -c failed (exit code 3):\nfirst\ndenied: wrong password');
  });

  test('the log shows the command as a shell line that can be pasted back, then its output', async () => {
    const written: string[] = [];
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      await run('printf', ['%s|', 'bats', '--filter', 'a note', "it's", '']);
    } finally {
      write.mockRestore();
    }
    const line = written.join('').split('\n')[0];
    expect(line).toMatch(/^\[command\]\/\S+\/printf '%s\|' bats --filter 'a note' 'it'\\''s' ''$/);
    // Taken back by a shell, the line gives the same words.
    const words = execFileSync('sh', ['-c', `${line.replace(/^\[command\]\S+/, 'printf "<%s>"')}`], {
      encoding: 'utf8',
    });
    expect(words).toBe("<%s|><bats><--filter><a note><it's><>");
    expect(written.join('')).toContain("bats|--filter|a note|it's||");
  });

  test('allowFailure returns the result instead', async () => {
    expect((await run('sh', ['-c', 'exit 4'], { silent: true }, true)).exitCode).toBe(4);
  });
});
