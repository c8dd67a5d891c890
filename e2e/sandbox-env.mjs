// The sandbox's facts (sockets, ports, key files), as e2e/sandbox.sh and e2e/cluster.sh write them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SANDBOX_DIR = process.env.SANDBOX_DIR || path.join(ROOT, 'e2e/.work');

/** The NAME=VALUE lines of DIR/env: the sandbox's by default, or e.g. its cluster's. */
export function sandbox(dir = SANDBOX_DIR) {
  const text = fs.readFileSync(path.join(dir, 'env'), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
