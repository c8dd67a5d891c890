import { describe, expect, jest, test } from '@jest/globals';
import type { Engine, SwarmObject } from '../src/swarm/engine.js';

const info = jest.fn();
const warning = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ info, warning }));
const { acquireLock, describeHolder, lockOwner } = await import('../src/swarm/lock.js');

function held(expires: string, owner = 'example/app run 7 job deploy'): SwarmObject {
  return {
    ID: 'held1',
    CreatedAt: '2026-01-01T10:00:00Z',
    Spec: {
      Name: 'ecr-swarm-deploy-lock.todo',
      Labels: { 'com.github.ecr-swarm-deploy.owner': owner, 'com.github.ecr-swarm-deploy.expires': expires },
    },
  };
}

/** A manager whose lock config exists until removed, as Swarm's atomic config creation behaves. */
function fakeEngine(existing?: SwarmObject) {
  let current = existing;
  const engine = {
    createObject: jest.fn(async (_kind: string, name: string, labels: Record<string, string>) => {
      if (current) return false;
      current = { ID: 'mine', CreatedAt: new Date().toISOString(), Spec: { Name: name, Labels: labels } };
      return 'mine';
    }),
    listObjects: jest.fn(async () => (current ? [current] : [])),
    remove: jest.fn(async (_kind: string, id: string) => {
      if (current?.ID !== id) return false;
      current = undefined;
      return true;
    }),
    current: () => current,
  };
  return engine;
}

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

  test('describeHolder: expired when the expiry is past or unreadable', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(describeHolder(held('2026-01-01T13:00:00Z'), now)).toEqual({
      holder: 'example/app run 7 job deploy, since 2026-01-01T10:00:00Z, until 2026-01-01T13:00:00Z',
      expired: false,
    });
    expect(describeHolder(held('2026-01-01T11:00:00Z'), now).expired).toBe(true);
    expect(describeHolder(held('soon'), now).expired).toBe(true);
  });
});

describe('acquireLock', () => {
  test('takes a free lock and releases it', async () => {
    const engine = fakeEngine();
    const lock = await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(engine.current()?.Spec.Labels?.['com.github.ecr-swarm-deploy.owner']).toBe('me');
    await lock.release();
    expect(engine.current()).toBeUndefined();
  });

  test('a held lock with no time to wait fails naming the holder, and is left alone', async () => {
    const engine = fakeEngine(held(new Date(Date.now() + 3600_000).toISOString()));
    await expect(acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0)).rejects.toThrow(
      /another deploy of stack todo holds its lock: example\/app run 7 job deploy, since 2026-01-01T10:00:00Z/,
    );
    expect(engine.remove).not.toHaveBeenCalled();
  });

  test('an expired lock is removed with a warning, then taken', async () => {
    const engine = fakeEngine(held('2020-01-01T00:00:00Z'));
    await acquireLock(engine as unknown as Engine, 'todo', 'me', 600, 0);
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/^Removing an expired deploy lock of stack todo, held by example/),
    );
    expect(engine.current()?.ID).toBe('mine');
  });
});
