import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import type { Engine, SwarmObject } from './engine.js';
import { LABELS, lockName } from '../naming.js';

/**
 * A per-stack deploy lock held on the manager: a Swarm config, whose creation is atomic. It names its
 * holder and carries an expiry, so a run that died holding it cannot block later runs for ever.
 */
export interface Lock {
  name: string;
  release(): Promise<void>;
}

const POLL_MS = 2000;

/** Who this run is, for whoever finds the lock taken. */
export function lockOwner(env: NodeJS.ProcessEnv = process.env): string {
  const repo = env.GITHUB_REPOSITORY ?? 'unknown repository';
  const run = env.GITHUB_RUN_ID
    ? ` run ${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`
    : '';
  const job = env.GITHUB_JOB ? ` job ${env.GITHUB_JOB}` : '';
  const url = env.GITHUB_RUN_ID
    ? ` ${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`
    : '';
  return `${repo}${run}${job} (sha ${(env.GITHUB_SHA ?? '').slice(0, 7)}, pid ${process.pid})${url}`;
}

/** What the lock's labels say about its holder; expired when its expiry is past. */
export function describeHolder(config: SwarmObject, now: number): { holder: string; expired: boolean } {
  const labels = config.Spec.Labels ?? {};
  const expires = Date.parse(labels[LABELS.lockExpires] ?? '');
  const holder = `${labels[LABELS.lockOwner] ?? 'an unknown run'}, since ${config.CreatedAt}, until ${labels[LABELS.lockExpires] ?? '?'}`;
  return { holder, expired: Number.isNaN(expires) || expires <= now };
}

/**
 * Takes the stack's lock, waiting up to waitSeconds for another run to release it; removes a lock whose
 * holder's time is up. holdSeconds is how long this run may keep it.
 */
export async function acquireLock(
  engine: Engine,
  stack: string,
  owner: string,
  holdSeconds: number,
  waitSeconds: number,
): Promise<Lock> {
  const name = lockName(stack);
  const deadline = Date.now() + waitSeconds * 1000;
  let said = '';
  for (;;) {
    const expires = new Date(Date.now() + holdSeconds * 1000).toISOString();
    const labels = {
      [LABELS.lockOwner]: owner,
      [LABELS.lockExpires]: expires,
      nonce: randomBytes(8).toString('hex'),
    };
    const id = await engine.createObject('configs', name, labels, `${owner}\n`);
    if (id) {
      core.info(`Holding the deploy lock of stack ${stack} (${name}) until ${expires}`);
      return {
        name,
        release: async () => {
          await engine.remove('configs', id);
        },
      };
    }
    const [current] = (await engine.listObjects('configs', { name: [name] })).filter(
      (c) => c.Spec.Name === name,
    );
    if (!current) continue; // released between the two calls
    const { holder, expired } = describeHolder(current, Date.now());
    if (expired) {
      core.warning(`Removing an expired deploy lock of stack ${stack}, held by ${holder}`);
      await engine.remove('configs', current.ID);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `another deploy of stack ${stack} holds its lock: ${holder}. It is released when that run ends; ` +
          `raise lock-timeout to wait longer, or remove the Swarm config ${name} if that run is gone.`,
      );
    }
    if (said !== holder) core.info(`Waiting for the deploy lock of stack ${stack}, held by ${holder}`);
    said = holder;
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}
