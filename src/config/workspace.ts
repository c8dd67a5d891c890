import fs from 'node:fs';
import path from 'node:path';

/**
 * Why a preview may not have the runner read a file (a stack file, an env file, a config or secret
 * file, a build context), or undefined when it may: it must resolve, symbolic links followed, inside
 * the workspace and outside any .git folder. A pull request chooses these paths, and the runner holds
 * the action's credentials and other runners' files beside the checkout.
 */
export function workspaceFileProblem(file: string, { dir, workspace }: { dir: string; workspace: string }) {
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(dir, file));
  } catch {
    return 'which does not exist in the workspace';
  }
  const relative = path.relative(fs.realpathSync(workspace), real);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative))
    return 'which is outside the workspace';
  // .git holds the checkout's credentials (actions/checkout keeps the token in .git/config).
  if (relative.split(path.sep).includes('.git')) return 'which is in a .git folder';
  return undefined;
}
