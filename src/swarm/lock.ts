import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import type { Engine, SwarmObject } from './engine.js';
import { LABELS, lockName, runUrl } from '../naming.js';

/**
 * A per-stack deploy lock held in the swarm: a Swarm config, whose creation is atomic. It names its
 * holder and its hold, in seconds. The holder renews it every min(RENEW_SECONDS, hold/3) for as long
 * as it works (a rollback included) by updating a label, which moves the config's version in the
 * swarm's raft log. A run that finds the lock held judges it by no wall clock at all: the lock is free
 * once that run has seen it go unrenewed (the same config at the same version) for its hold, timed on
 * its own monotonic clock. Runners and managers whose clocks differ, and a run that moves to another
 * manager, therefore agree on it; a holder that died frees its lock one hold after a waiter first saw it
 * (at once when the lock's record says it died long ago, see STALE_MARGIN_SECONDS).
 */
export interface Lock {
  name: string;
  release(): Promise<void>;
}

const POLL_MS = 2000;
const RENEW_SECONDS = 20;

/**
 * How long a run's lock holds without a renewal: three renewals may fail, and a dropped tunnel may
 * take up to ssh-reconnect-timeout to come back (the renewal then waits for it).
 */
export function lockHold(reconnectSeconds: number): number {
  return 3 * RENEW_SECONDS + reconnectSeconds;
}

/** Who this run is, for whoever finds the lock taken. */
export function lockOwner(env: NodeJS.ProcessEnv = process.env): string {
  const repo = env.GITHUB_REPOSITORY ?? 'unknown repository';
  const run = env.GITHUB_RUN_ID
    ? ` run ${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`
    : '';
  const job = env.GITHUB_JOB ? ` job ${env.GITHUB_JOB}` : '';
  const url = runUrl(env) ? ` ${runUrl(env)}` : '';
  return `${repo}${run}${job} (sha ${(env.GITHUB_SHA ?? '').slice(0, 7)}, pid ${process.pid})${url}`;
}

/**
 * The expiry an earlier version of the action wrote instead of a hold (with its runner's clock), or
 * undefined for a lock that carries a hold.
 */
function legacyExpiry(config: SwarmObject): number | undefined {
  const labels = config.Spec.Labels ?? {};
  return labels[LABELS.lockHold] === undefined ? Date.parse(labels[LABELS.lockExpires] ?? '') : undefined;
}

/**
 * The expiry an earlier version of the action reads (with its runner's clock; this version reads the
 * hold instead): written and renewed so that such a run does not take a live lock for an expired one.
 */
const expiresFor = (holdSeconds: number) => new Date(Date.now() + holdSeconds * 1000).toISOString();

const readable = (ms: number) => (Number.isNaN(ms) ? '?' : new Date(ms).toISOString());

/** Who holds the lock and how long it holds, as its labels and the swarm's record of it say. */
export function describeHolder(config: SwarmObject): string {
  const owner = config.Spec.Labels?.[LABELS.lockOwner] ?? 'an unknown run';
  const since = `${owner}, since ${readable(Date.parse(config.CreatedAt))}`;
  const expiry = legacyExpiry(config);
  if (expiry !== undefined) return `${since}, until ${readable(expiry)} (manager's clock)`;
  const renewed = readable(Date.parse(config.UpdatedAt ?? config.CreatedAt));
  return `${since}, last renewed ${renewed}; free once it goes unrenewed for ${config.Spec.Labels?.[LABELS.lockHold]} s`;
}

/** What a waiting run has seen of a lock: this config at this version, unchanged since `since` (monotonic ms). */
export interface Sighting {
  id: string;
  version: number;
  since: number;
}

/**
 * How long past its hold a lock's own record (its UpdatedAt, on the clock of the manager that wrote it)
 * must say it went unrenewed to be free at once: managers' clocks would have to differ by more than
 * this for a live lock to be taken that way.
 */
const STALE_MARGIN_SECONDS = 600;

/**
 * Whether a lock is free to take, given what was seen of it before (updated in place). A lock with a
 * hold is free once seen unrenewed for its hold (a hold that is not a positive number holds nothing),
 * or at once when its record says it went unrenewed for its hold plus STALE_MARGIN_SECONDS on the
 * manager's clock (managerNow; a run that died long ago). An earlier version's lock is free once its
 * expiry is past on the manager's clock.
 */
export async function judgeLock(
  config: SwarmObject,
  seen: Partial<Sighting>,
  now: number,
  managerNow: () => Promise<number>,
): Promise<boolean> {
  const expiry = legacyExpiry(config);
  if (expiry !== undefined) return Number.isNaN(expiry) || expiry <= (await managerNow());
  const hold = Number(config.Spec.Labels?.[LABELS.lockHold]);
  if (!(hold > 0)) return true;
  const version = config.Version?.Index ?? 0;
  if (seen.id !== config.ID || seen.version !== version)
    Object.assign(seen, { id: config.ID, version, since: now });
  if (now - seen.since! >= hold * 1000) return true;
  const renewed = Date.parse(config.UpdatedAt ?? config.CreatedAt);
  return renewed + (hold + STALE_MARGIN_SECONDS) * 1000 <= (await managerNow());
}

/** The manager's clock, read once: this runner's clock, however far off, then only has to keep time. */
async function managerClock(engine: Engine): Promise<() => number> {
  const sent = Date.now();
  const managerNow = await engine.systemTime();
  const offset = managerNow - (sent + Date.now()) / 2;
  return () => Date.now() + offset;
}

/**
 * Renews the lock every `every` ms until stopped, by counting its renewals in a label. A failed
 * renewal is a warning, and the next one tries again; a lock that is gone is reported once.
 */
function keepRenewing(
  engine: Engine,
  stack: string,
  id: string,
  every: number,
  holdSeconds: number,
): () => Promise<void> {
  let renewals = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    const config = await engine.inspectObject('configs', id);
    const labels = {
      ...config?.Spec.Labels,
      [LABELS.lockRenewals]: String(++renewals),
      [LABELS.lockExpires]: expiresFor(holdSeconds),
    };
    if (config && (await engine.updateLabels('configs', config, labels))) return schedule();
    core.warning(
      `the deploy lock of stack ${stack} is gone (removed by hand, or judged expired by another run); this run goes on without it`,
    );
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      renewing = renew().catch((e: Error) => {
        core.warning(`could not renew the deploy lock of stack ${stack}: ${e.message}`);
        schedule();
      });
    }, every).unref();
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await renewing;
  };
}

/**
 * Takes the stack's lock, waiting up to waitSeconds for another run to release it; removes a lock that
 * judgeLock finds free. The lock holds holdSeconds past its last renewal, and is renewed until released.
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
  let clock: (() => number) | undefined;
  const managerNow = async () => (clock ??= await managerClock(engine))();
  const seen: Partial<Sighting> = {};
  let said = '';
  // This run's mark on the lock: a create that the swarm made but whose answer was cut off is retried,
  // and its 409 then names this run's own lock.
  const nonce = randomBytes(8).toString('hex');
  const hold = (id: string): Lock => {
    const every = Math.min(RENEW_SECONDS, holdSeconds / 3);
    core.info(
      `Holding the deploy lock of stack ${stack} (${name}), renewed every ${every} s; should this run ` +
        `die, the next run takes it once it has seen it unrenewed for ${holdSeconds} s`,
    );
    const stopRenewing = keepRenewing(engine, stack, id, every * 1000, holdSeconds);
    return {
      name,
      release: async () => {
        await stopRenewing();
        await engine.remove('configs', id).catch((e: Error) => {
          throw new Error(
            `${e.message}. The lock (Swarm config ${name}) is no longer renewed: the next run takes it once ` +
              `it has seen it unrenewed for ${holdSeconds} s, or remove it by hand`,
            { cause: e },
          );
        });
      },
    };
  };
  for (;;) {
    const labels = {
      [LABELS.lockOwner]: owner,
      [LABELS.lockHold]: String(holdSeconds),
      [LABELS.lockExpires]: expiresFor(holdSeconds),
      nonce,
    };
    const id = await engine.createObject('configs', name, labels, `${owner}\n`);
    if (id) return hold(id);
    const [current] = (await engine.listObjects('configs', { name: [name] })).filter(
      (c) => c.Spec.Name === name,
    );
    if (!current) continue; // released between the two calls
    if (current.Spec.Labels?.nonce === nonce) return hold(current.ID);
    const holder = describeHolder(current);
    if (await judgeLock(current, seen, performance.now(), managerNow)) {
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
