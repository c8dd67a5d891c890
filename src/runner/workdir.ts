import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WORK_DIR_PREFIX } from '../naming.js';

export interface WorkDir {
  root: string;
  /** DOCKER_CONFIG: the registry credentials live here, and nowhere else. */
  dockerConfig: string;
  /** Holds the tunnel's local socket. */
  tunnel: string;
}

/** A private (0700) directory under RUNNER_TEMP for credentials and the tunnel socket. */
export function createWorkDir(base = process.env.RUNNER_TEMP || os.tmpdir()): WorkDir {
  const root = fs.mkdtempSync(path.join(base, WORK_DIR_PREFIX));
  fs.chmodSync(root, 0o700);
  const dockerConfig = path.join(root, 'docker-config');
  const tunnel = path.join(root, 'tunnel');
  for (const dir of [dockerConfig, tunnel]) {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700); // mkdir's mode is less the umask
  }
  return { root, dockerConfig, tunnel };
}

/** Removes a work directory made by createWorkDir; refuses any other path. */
export function removeWorkDir(root: string): boolean {
  if (!root || !path.basename(root).startsWith(WORK_DIR_PREFIX) || !fs.existsSync(root)) return false;
  fs.rmSync(root, { recursive: true, force: true });
  return true;
}
