import * as core from '@actions/core';
import { workDir } from './runner/state.js';
import { removeWorkDir } from './runner/workdir.js';

/**
 * The post step runs whatever happened to main (failure, cancellation, a killed process): the
 * tunnel died with main's process; here its socket and the registry credentials are removed.
 */
export function runPost(): void {
  const dir = workDir();
  if (!dir) {
    core.info('Nothing to clean up: the main step created no work directory.');
    return;
  }
  if (removeWorkDir(dir))
    core.info(`Removed ${dir} (docker config with registry credentials, tunnel socket).`);
  else core.info(`Already clean: ${dir} is gone.`);
}
