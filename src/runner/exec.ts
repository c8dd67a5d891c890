import { getExecOutput } from '@actions/exec';

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

/** Runs a command; a non-zero exit becomes a CommandError carrying its output. */
export async function run(
  command: string,
  args: string[],
  options: RunOptions = {},
  allowFailure = false,
): Promise<RunResult> {
  const result = await getExecOutput(command, args, {
    env: options.env,
    input: options.input === undefined ? undefined : Buffer.from(options.input),
    silent: options.silent,
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0 && !allowFailure)
    throw new CommandError(`${command} ${args[0] ?? ''}`.trim(), result);
  return result;
}
