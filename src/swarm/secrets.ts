import * as core from '@actions/core';
import type { Engine } from './engine.js';
import type { StackSecret } from '../config/index.js';
import { LABELS, versionedSecretName } from '../naming.js';

/**
 * Creates each secret's current version (named as secretVariables names it) unless it exists. Values
 * only travel in the API request body, never on a command line or in the log.
 */
export async function ensureSecrets(
  engine: Engine,
  stack: string,
  secrets: StackSecret[],
  key: string,
): Promise<void> {
  for (const secret of secrets) {
    const name = versionedSecretName(stack, secret, key);
    const created = await engine.createObject(
      'secrets',
      name,
      { [LABELS.secretStack]: stack, [LABELS.secretName]: secret.name },
      secret.value,
    );
    core.info(created ? `Created secret ${name}` : `Secret ${name} exists already`);
  }
}

/**
 * Removes the action's secrets for the stack except those named in keep. A secret still in use by
 * a service is left (Swarm refuses); it goes at a later deploy or at teardown.
 */
export async function removeSecrets(engine: Engine, stack: string, keep: string[] = []): Promise<string[]> {
  const removed: string[] = [];
  const own = await engine.listObjects('secrets', { label: [`${LABELS.secretStack}=${stack}`] });
  for (const s of own.filter((o) => !keep.includes(o.Spec.Name))) {
    try {
      if (await engine.remove('secrets', s.ID)) removed.push(s.Spec.Name);
    } catch (e) {
      if (!/in use/.test((e as Error).message)) throw e;
    }
  }
  return removed;
}
