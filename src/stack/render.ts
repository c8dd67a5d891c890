import path from 'node:path';
import type { DockerCli } from '../runner/docker.js';
import { parseRendering, type StackDoc } from './document.js';

/**
 * What docker's error may tell of a file it read for the stack besides the stack files: an env_file's
 * line (the parser quotes a line it cannot read, byte for byte), or whether a path exists on the
 * runner. A preview's pull request chooses which files those are, so there the message is not shown.
 */
const TELLS_OF_A_FILE =
  /env.?file|variable '|line '|utf-?8|\bopen\b|\bread\b|no such file|directory|permission/i;

/**
 * The stack files as docker's own loader reads them (`docker stack config -c A -c B`), given variables
 * and nothing else (see DockerCli.stack): the document every check reads and the deploy is made from.
 * A file docker cannot read fails here, with docker's message.
 */
export async function renderStack(
  cli: DockerCli,
  files: string[],
  variables: Record<string, string>,
  { preview = false }: { preview?: boolean } = {},
): Promise<StackDoc> {
  // Absolute paths: docker takes the stack's folder from the first, and a relative one it would resolve
  // from $PWD, which a stack variable could set.
  const args = ['config', ...files.flatMap((f) => ['-c', path.resolve(f)])];
  const result = await cli.stack(args, variables, { silent: true }, true);
  if (result.exitCode === 0) return parseRendering(result.stdout);
  const message = result.stderr.trim() || result.stdout.trim();
  const named = files.map((f) => `"${f}"`).join(' + ');
  if (preview && TELLS_OF_A_FILE.test(message))
    throw new Error(
      `stack-file ${named}: docker stack config could not read a file the stack names for a service's environment; its message is not shown in a preview, where it could quote a file of the runner (run docker stack config -c … on the pull request's branch to see it)`,
    );
  throw new Error(`stack-file ${named}: docker stack config refused it: ${message}`);
}
