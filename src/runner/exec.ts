import os from 'node:os';
import { getExecOutput } from '@actions/exec';
import { which } from '@actions/io';

export interface RunOptions {
  env?: Record<string, string>;
  /** Written to the process's stdin (how secrets reach a command). */
  input?: string;
  /** Don't echo the command's output to the log. */
  silent?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-10).join('\n');
    super(`${command} failed (exit code ${result.exitCode})${detail ? `:\n${detail}` : ''}`);
    this.name = 'CommandError';
  }
}

/** A word as a POSIX shell would take it back: quoted only when it has to be. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a command; a non-zero exit becomes a CommandError carrying its output. Unless silent, the log
 * shows the command as a shell line that can be pasted back, then its output.
 */
export async function run(
  command: string,
  args: string[],
  options: RunOptions = {},
  allowFailure = false,
): Promise<RunResult> {
  if (!options.silent) {
    const resolved = await which(command, true);
    process.stdout.write(`[command]${[resolved, ...args].map(shellQuote).join(' ')}${os.EOL}`);
  }
  const echo = (stream: NodeJS.WriteStream) => (data: Buffer) => void (options.silent || stream.write(data));
  const result = await getExecOutput(command, args, {
    env: options.env,
    input: options.input === undefined ? undefined : Buffer.from(options.input),
    silent: true,
    listeners: { stdout: echo(process.stdout), stderr: echo(process.stderr) },
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0 && !allowFailure)
    throw new CommandError(`${command} ${args[0] ?? ''}`.trim(), result);
  return result;
}
