import { describe, expect, jest, test } from '@jest/globals';
import { watchRollout, type RolloutWatchers } from '../../src/modes/watch.js';

/** A promise settled by the test, to play each wait's outcome in the order a scenario needs. */
function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Watchers whose waits the test drives; every call is recorded in order. */
function scenario({ rollback = false } = {}) {
  const events: string[] = [];
  const oneShots = deferred();
  const converge = deferred();
  const tests = deferred();
  const signals: AbortSignal[] = [];
  let serving = () => {};
  const watchers: RolloutWatchers = {
    oneShots: (signal) => {
      signals.push(signal);
      signal.addEventListener('abort', () => {
        events.push('one-shots aborted');
        oneShots.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
      return oneShots.promise;
    },
    converge: (signal, onServing) => {
      serving = onServing;
      signal.addEventListener('abort', () => {
        events.push('converge aborted');
        converge.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
      return converge.promise;
    },
    tests: () => {
      events.push('tests started');
      return tests.promise;
    },
    rollback: rollback
      ? jest.fn(async () => {
          events.push('rollback');
          return 'rolled back todo_app';
        })
      : undefined,
  };
  return { watchers, events, oneShots, converge, tests, serving: () => serving(), signals };
}

describe('watchRollout', () => {
  test('tests start once the one-shots are done and the new tasks serve; the verdict waits for convergence', async () => {
    const s = scenario();
    const done = watchRollout(s.watchers);
    s.oneShots.resolve();
    await tick();
    expect(s.events).toEqual([]);
    s.serving();
    await tick();
    expect(s.events).toEqual(['tests started']);
    s.tests.resolve();
    await tick();
    expect(s.events).toEqual(['tests started']);
    s.converge.resolve();
    await expect(done).resolves.toBeUndefined();
    expect(s.events).toEqual(['tests started']);
  });

  test('a one-shot failure ends the convergence wait too, and no test runs', async () => {
    const s = scenario();
    const done = watchRollout(s.watchers);
    s.oneShots.reject(new Error('todo_migrate failed after 4 attempts'));
    await expect(done).rejects.toThrow('todo_migrate failed after 4 attempts');
    expect(s.events).toContain('converge aborted');
    expect(s.events).not.toContain('tests started');
  });

  test('a convergence failure before the new tasks serve ends the one-shot wait too', async () => {
    const s = scenario();
    const done = watchRollout(s.watchers);
    s.converge.reject(new Error('todo_app update paused'));
    await expect(done).rejects.toThrow('todo_app update paused');
    expect(s.events).toContain('one-shots aborted');
    expect(s.events).not.toContain('tests started');
  });

  test('a failed update is the verdict even when the tests that ran meanwhile failed too', async () => {
    const s = scenario();
    const done = watchRollout(s.watchers);
    s.oneShots.resolve();
    s.serving();
    await tick();
    s.tests.reject(new Error('1 acceptance test(s) failed'));
    s.converge.reject(new Error('todo_app update paused'));
    await expect(done).rejects.toThrow('todo_app update paused');
    expect(s.events).toEqual(['tests started']);
  });

  test('failing tests fail the rollout once convergence completed', async () => {
    const s = scenario();
    const done = watchRollout(s.watchers);
    s.oneShots.resolve();
    s.serving();
    await tick();
    s.tests.reject(new Error('1 acceptance test(s) failed'));
    s.converge.resolve();
    await expect(done).rejects.toThrow('1 acceptance test(s) failed');
  });

  test.each([
    ['a one-shot', (s: ReturnType<typeof scenario>) => s.oneShots.reject(new Error('migrate failed'))],
    ['convergence', (s: ReturnType<typeof scenario>) => s.converge.reject(new Error('update paused'))],
    [
      'the tests',
      async (s: ReturnType<typeof scenario>) => {
        s.oneShots.resolve();
        s.serving();
        await tick();
        s.tests.reject(new Error('tests failed'));
        s.converge.resolve();
      },
    ],
  ])('rollback after a failure of %s, its outcome added to the message', async (_, fail) => {
    const s = scenario({ rollback: true });
    const done = watchRollout(s.watchers);
    await fail(s);
    const error = await done.catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /(migrate failed|update paused|tests failed)\nrolled back todo_app$/,
    );
    expect(s.events.at(-1)).toBe('rollback');
  });

  test('no rollback after a success', async () => {
    const s = scenario({ rollback: true });
    const done = watchRollout(s.watchers);
    s.oneShots.resolve();
    s.converge.resolve();
    s.tests.resolve();
    await done;
    expect(s.events).not.toContain('rollback');
  });
});
