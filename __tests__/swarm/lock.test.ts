import { afterEach, describe, expect, jest, test } from '@jest/globals';
import type { Engine, SwarmObject } from '../../src/swarm/engine.js';

const info = jest.fn();
const warning = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ info, warning }));
const { acquireLock, describeHolder, judgeLock, lockHold, lockOwner } =
  await import('../../src/swarm/lock.js');

const OWNER = 'com.github.ecr-swarm-deploy.owner';
const HOLD = 'com.github.ecr-swarm-deploy.hold';
const EXPIRES = 'com.github.ecr-swarm-deploy.expires';
const RENEWALS = 'com.github.ecr-swarm-deploy.renewals';

const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lock as an earlier version of the action wrote it: an expiry from its runner's clock. */
function heldUntil(expires: string, owner = 'example/app run 7 job deploy'): SwarmObject {
  return {
    ID: 'held1',
    CreatedAt: '2026-01-01T10:00:00Z',
    Spec: { Name: 'ecr-swarm-deploy-lock.todo', Labels: { [OWNER]: owner, [EXPIRES]: expires } },
  };
}

/** A lock holding holdSeconds from its creation (or last renewal), times on the manager's clock. */
function heldFor(holdSeconds: number, createdAt: number, updatedAt = createdAt): SwarmObject {
  return {
    ID: 'held1',
    CreatedAt: iso(createdAt),
    UpdatedAt: iso(updatedAt),
    Version: { Index: 10 },
    Spec: {
      Name: 'ecr-swarm-deploy-lock.todo',
      Labels: { [OWNER]: 'example/app run 7 job deploy', [HOLD]: String(holdSeconds) },
    },
  };
}

/**
 * A manager whose lock config exists until removed, as Swarm's atomic config creation behaves; its
 * clock reads managerNow(), and a label update moves the config's UpdatedAt and Version.
 */
function fakeEngine(existing?: SwarmObject, managerNow: () => number = Date.now) {
  let current = existing;
  let version = 100; // above any version a planted lock starts at
  const engine = {
    createObject: jest.fn(async (_kind: string, name: string, labels: Record<string, string>) => {
      if (current) return false;
      const at = iso(managerNow());
      current = {
        ID: 'mine',
        CreatedAt: at,
        UpdatedAt: at,
        Version: { Index: ++version },
        Spec: { Name: name, Labels: labels },
      };
      return 'mine';
    }),
    listObjects: jest.fn(async () => (current ? [current] : [])),
    inspectObject: jest.fn(async (_kind: string, id: string) => (current?.ID === id ? current : undefined)),
    updateLabels: jest.fn(async (_kind: string, object: SwarmObject, labels: Record<string, string>) => {
      if (current?.ID !== object.ID) return false;
      if (current.Version?.Index !== object.Version?.Index) throw new Error('update out of sequence');
      current = {
        ...current,
        UpdatedAt: iso(managerNow()),
        Version: { Index: ++version },
        Spec: { ...current.Spec, Labels: labels },
      };
      return true;
    }),
    remove: jest.fn(async (_kind: string, id: string) => {
      if (current?.ID !== id) return false;
      current = undefined;
      return true;
    }),
    systemTime: jest.fn(async () => managerNow()),
    current: () => current,
  };
  return engine;
}

afterEach(() => {
  warning.mockClear();
  info.mockClear();
});

describe('lock owner', () => {
  test('the owner names the repository, run, job and commit', () => {
    const owner = lockOwner({
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_RUN_ID: '42',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_JOB: 'deploy',
      GITHUB_SHA: 'abcdef1234',
    });
    expect(owner).toMatch(
      /^acme\/app run 42\.2 job deploy \(sha abcdef1, pid \d+\) https:\/\/github.com\/acme\/app\/actions\/runs\/42$/,
    );
  });

  test('the hold outlasts three renewals and a reconnection of the tunnel', () => {
    expect(lockHold(60)).toBe(120);
    expect(lockHold(300)).toBe(360);
  });
});

describe('judgeLock and describeHolder', () => {
  const created = Date.parse('2026-01-01T10:00:00Z');
  const never = async () => {
    throw new Error('no manager clock is read for this lock');
  };
  /** A manager whose clock reads ms. */
  const clockAt = (ms: number) => async () => ms;

  test('a lock with a hold is free once seen unrenewed for its hold, whatever the manager clock says within the margin', async () => {
    // The manager's clock from years behind the lock's record to just within its hold plus 10 minutes.
    for (const managerNow of [created - 5 * 365 * 86400_000, created, created + (600 + 599) * 1000]) {
      const seen = {};
      const lock = heldFor(600, created);
      expect(await judgeLock(lock, seen, 1000, clockAt(managerNow))).toBe(false);
      expect(await judgeLock(lock, seen, 1000 + 599_999, clockAt(managerNow))).toBe(false);
      expect(await judgeLock(lock, seen, 1000 + 600_000, never)).toBe(true);
    }
  });

  test('a lock whose record says it went unrenewed for its hold plus 10 minutes is free at once', async () => {
    const lock = heldFor(600, created - 3600_000, created);
    expect(await judgeLock(lock, {}, 0, clockAt(created + (600 + 600) * 1000))).toBe(true);
    expect(await judgeLock(lock, {}, 0, clockAt(created + (600 + 599) * 1000))).toBe(false);
  });

  test('a renewal (a new version) or another lock of the name starts the count again', async () => {
    const seen = {};
    const now = clockAt(created);
    const lock = heldFor(60, created);
    expect(await judgeLock(lock, seen, 0, now)).toBe(false);
    const renewed = { ...lock, Version: { Index: 11 } };
    expect(await judgeLock(renewed, seen, 59_000, now)).toBe(false);
    expect(await judgeLock(renewed, seen, 118_000, now)).toBe(false);
    const another = { ...renewed, ID: 'held2' };
    expect(await judgeLock(another, seen, 119_000, now)).toBe(false);
    expect(await judgeLock(another, seen, 179_000, now)).toBe(true);
  });

  test('a hold that is not a positive number of seconds holds nothing', async () => {
    for (const hold of ['soon', '0', '-5', '']) {
      const lock = heldFor(1, created);
      lock.Spec.Labels![HOLD] = hold;
      expect(await judgeLock(lock, {}, 0, never)).toBe(true);
    }
  });

  test("a lock of an earlier version keeps its expiry, judged against the manager's clock", async () => {
    const now = async () => Date.parse('2026-01-01T12:00:00Z');
    expect(await judgeLock(heldUntil('2026-01-01T13:00:00Z'), {}, 0, now)).toBe(false);
    expect(await judgeLock(heldUntil('2026-01-01T11:00:00Z'), {}, 0, now)).toBe(true);
    expect(await judgeLock(heldUntil('soon'), {}, 0, never)).toBe(true);
  });

  test('the holder, its times as the swarm recorded them, and its hold', () => {
    expect(describeHolder(heldFor(600, created, created + 100_000))).toBe(
      'example/app run 7 job deploy, since 2026-01-01T10:00:00.000Z, last renewed 2026-01-01T10:01:40.000Z; ' +
        'free once it goes unrenewed for 600 s',
    );
    expect(describeHolder(heldUntil('2026-01-01T13:00:00Z'))).toBe(
      "example/app run 7 job deploy, since 2026-01-01T10:00:00.000Z, until 2026-01-01T13:00:00.000Z (manager's clock)",
    );
  });
});

describe('acquireLock', () => {
  test('takes a free lock, labelled with its holder and hold, and releases it', async () => {
    const engine = fakeEngine();
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(engine.current()?.Spec.Labels).toMatchObject({ [OWNER]: 'me', [HOLD]: '600' });
    // Also the expiry an earlier version of the action judges a lock by, so that it leaves this one be.
    const expires = Date.parse(engine.current()?.Spec.Labels?.[EXPIRES] ?? '');
    expect(Math.abs(expires - (Date.now() + 600_000))).toBeLessThan(5000);
    await lock.release();
    expect(engine.current()).toBeUndefined();
  });

  test('a held lock with no time to wait fails naming the holder, and is left alone', async () => {
    const engine = fakeEngine(heldUntil(new Date(Date.now() + 3600_000).toISOString()));
    await expect(acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0)).rejects.toThrow(
      /another deploy of stack todo holds its lock: example\/app run 7 job deploy, since 2026-01-01T10:00:00.000Z/,
    );
    expect(engine.remove).not.toHaveBeenCalled();
  });

  test('an expired lock is removed with a warning, then taken', async () => {
    const engine = fakeEngine(heldUntil('2020-01-01T00:00:00Z'));
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/^Removing an expired deploy lock of stack todo, held by example/),
    );
    expect(engine.current()?.ID).toBe('mine');
  });

  // The runner's clock is today's; the managers' are years behind it, or years ahead of it.
  test('a live lock is respected for as long as the run waits, though the manager clock is years behind its record', async () => {
    const record = Date.now();
    const engine = fakeEngine(heldFor(3600, record), () => record - 5 * 365 * 86400_000);
    await expect(acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 3)).rejects.toThrow(
      /holds its lock: example\/app run 7 job deploy, since \S+, last renewed \S+; free once it goes unrenewed for 3600 s/,
    );
    expect(engine.remove).not.toHaveBeenCalled();
    expect(engine.listObjects.mock.calls.length).toBeGreaterThan(1);
  });

  test('a lock left unrenewed for its hold is removed; a renewed one is waited for', async () => {
    // Its record says it was renewed a moment ago on a manager years ahead: it is free all the same.
    const ahead = Date.now() + 5 * 365 * 86400_000;
    const engine = fakeEngine(heldFor(0.5, ahead, ahead), () => ahead);
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 5);
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/^Removing an expired deploy lock of stack todo, held by example\/app run 7/),
    );
    expect(engine.current()?.ID).toBe('mine');

    // A holder that keeps renewing (every 0.2 s, hold 0.5 s) is never judged gone.
    const past = Date.parse('2000-01-01T00:00:00Z');
    const busy = fakeEngine(heldFor(0.5, past), () => past);
    const renewing = setInterval(() => {
      const lock = busy.current()!;
      void busy.updateLabels('configs', lock, lock.Spec.Labels!);
    }, 200);
    try {
      await expect(acquireLock(busy as unknown as Engine, 'todo', 'me', 600, 3)).rejects.toThrow(
        /holds its lock/,
      );
      expect(busy.remove).not.toHaveBeenCalled();
    } finally {
      clearInterval(renewing);
    }
  }, 15_000);

  test('the lock of a run that died long ago (by its record, past hold and margin) is removed at once', async () => {
    const now = Date.now();
    const engine = fakeEngine(heldFor(120, now - 721_000), () => now);
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(engine.current()?.ID).toBe('mine');
    const recent = fakeEngine(heldFor(120, now - 719_000), () => now);
    await expect(acquireLock(recent as unknown as Engine, 'todo', 'me', 600, 0)).rejects.toThrow(
      /holds its lock/,
    );
  });

  test("a create the swarm made, though its answer was lost (the retry answered 409), is this run's lock", async () => {
    const engine = fakeEngine();
    const create = engine.createObject.getMockImplementation()!;
    engine.createObject.mockImplementationOnce(async (...args) => {
      await create(...args);
      return false;
    });
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(engine.current()?.Spec.Labels).toMatchObject({ [OWNER]: 'me' });
    expect(warning).not.toHaveBeenCalled();
    await lock.release();
    expect(engine.current()).toBeUndefined();
  });

  test("an earlier version's lock past its expiry on the manager's clock is removed at once", async () => {
    const managerNow = Date.parse('2040-06-01T12:00:00Z');
    const engine = fakeEngine(heldUntil('2030-01-01T00:00:00Z'), () => managerNow);
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(engine.current()?.ID).toBe('mine');
    expect(engine.systemTime).toHaveBeenCalledTimes(1);
  });
});

describe('renewal of a held lock', () => {
  test('renews while held, moving UpdatedAt on the manager; stops on release', async () => {
    const engine = fakeEngine();
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 0.3, 0);
    const created = engine.current()!.CreatedAt;
    await sleep(350);
    expect(engine.updateLabels.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(engine.current()!.UpdatedAt! > created).toBe(true);
    expect(Number(engine.current()!.Spec.Labels![RENEWALS])).toBeGreaterThanOrEqual(2);
    expect(engine.current()!.Spec.Labels).toMatchObject({ [OWNER]: 'me', [HOLD]: '0.3' });
    await lock.release();
    const renewals = engine.updateLabels.mock.calls.length;
    await sleep(300);
    expect(engine.updateLabels.mock.calls.length).toBe(renewals);
    expect(engine.current()).toBeUndefined();
    expect(warning).not.toHaveBeenCalled();
  });

  test('the renewal timer does not keep the process alive', async () => {
    const timers = jest.spyOn(globalThis, 'setTimeout');
    const engine = fakeEngine();
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 30, 0);
    const started = timers.mock.results.map((r) => r.value as NodeJS.Timeout);
    timers.mockRestore();
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((t) => !t.hasRef())).toBe(true);
    await lock.release();
  });

  test('a failed renewal is a warning, and the next one renews', async () => {
    const engine = fakeEngine();
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 0.3, 0);
    engine.updateLabels.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await sleep(350);
    await lock.release();
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/^could not renew the deploy lock of stack todo: connect ECONNREFUSED/),
    );
    expect(Number(engine.updateLabels.mock.calls.length)).toBeGreaterThanOrEqual(2);
  });

  test('a lock removed while held is reported once and no longer renewed', async () => {
    const engine = fakeEngine();
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 0.3, 0);
    await engine.remove('configs', 'mine');
    await sleep(350);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning).toHaveBeenCalledWith(expect.stringMatching(/deploy lock of stack todo is gone/));
    expect(engine.inspectObject).toHaveBeenCalledTimes(1);
  });
});
