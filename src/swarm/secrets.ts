import crypto from 'node:crypto';
import * as core from '@actions/core';
import type { Engine } from './engine.js';
import type { StackSecret } from '../config/read.js';
import { LABELS } from '../naming.js';

/** The stack file variable that carries a secret's Swarm name: secret_key -> SECRET_KEY_SECRET. */
export function secretVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SECRET`;
}

/**
 * Swarm secrets cannot change, so each value gets a name of its own. The version is keyed with the
 * deploy key rather than a plain hash of the value: secret names appear in public logs, and a bare
 * hash of a short password could be guessed offline.
 */
export function versionedSecretName(stack: string, secret: StackSecret, key: string): string {
  const version = crypto
    .createHmac('sha256', key)
    .update(`${stack}\0${secret.name}\0${secret.value}`)
    .digest('hex')
    .slice(0, 12);
  return `${stack}_${secret.name}_${version}`;
}

/**
 * Creates each secret's current version unless it exists; returns the stack file variables that
 * name them. Values only travel in the API request body, never on a command line or in the log.
 */
export async function ensureSecrets(
  engine: Engine,
  stack: string,
  secrets: StackSecret[],
  key: string,
): Promise<Record<string, string>> {
  const variables: Record<string, string> = {};
  for (const secret of secrets) {
    const name = versionedSecretName(stack, secret, key);
    const created = await engine.createObject(
      'secrets',
      name,
      { [LABELS.secretStack]: stack, [LABELS.secretName]: secret.name },
      secret.value,
    );
    core.info(created ? `Created secret ${name}` : `Secret ${name} exists already`);
    variables[secretVariable(secret.name)] = name;
  }
  return variables;
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
