import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRendering, type StackDoc } from '../../src/stack/document.js';

const STACKS = new URL('../fixtures/stacks/', import.meta.url);

/**
 * A workspace like the one the renderings were recorded in (see fixtures/stacks/record.sh): the files
 * the stacks name exist there, a nested .git among them.
 */
export function recordedWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workspace-'));
  fs.mkdirSync(path.join(dir, 'sub', '.git'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sub', '.git', 'config'), '[core]\n');
  fs.writeFileSync(path.join(dir, 'app.conf'), 'x\n');
  fs.writeFileSync(path.join(dir, 'app.env'), 'FROM_ENV_FILE=1\n');
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  fs.mkdirSync(path.join(dir, 'proxy'));
  fs.writeFileSync(path.join(dir, 'proxy', 'Dockerfile.prod'), 'FROM scratch AS release\n');
  return dir;
}

/** docker stack config's recorded rendering of fixtures/stacks/NAME.yml, its workspace being workspace. */
export function rendered(name: string, workspace: string): StackDoc {
  const text = fs.readFileSync(new URL(`${name}.rendered.yml`, STACKS), 'utf8');
  return parseRendering(text.replaceAll('/WORKSPACE', workspace));
}

/** The stack file as a pull request would write it. */
export const stackText = (name: string): string => fs.readFileSync(new URL(`${name}.yml`, STACKS), 'utf8');
