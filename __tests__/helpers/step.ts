import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeKey } from './sshkeys.js';

/** The fixture's stack: an app whose image uses the version variable, and a migrate one-shot. */
export const STACK_YML =
  'services:\n  app:\n    image: ${ECR_REGISTRY}/todo:${APP_VERSION}\n  migrate:\n    image: x\n    deploy:\n      restart_policy:\n        condition: on-failure\n';

/**
 * A user's step: a workspace in a temporary directory (its stack file, and a Dockerfile unless there is
 * nothing to build) and the inputs that reach a manager and the app; each test file adds its own.
 */
export function userStep(
  prefix: string,
  { stack = STACK_YML, dockerfile = true }: { stack?: string; dockerfile?: boolean } = {},
): { dir: string; inputs: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (dockerfile) fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  fs.writeFileSync(path.join(dir, 'stack.yml'), stack);
  const key = makeKey();
  const inputs = {
    'ssh-host': 'manager.example.com',
    'ssh-private-key': key.privateKey,
    'ssh-known-hosts': `manager.example.com ${key.line}`,
    'stack-file': path.join(dir, 'stack.yml'),
    context: dir,
    'app-url': 'http://lb.example.com',
  };
  return { dir, inputs };
}
