import { describe, expect, test } from '@jest/globals';
import { migrateOutput, oneShotOutcomes, stepOutputs } from '../../src/report/outputs.js';
import type { Report, ServiceState } from '../../src/report/summary.js';

const done = (service: string, state: ServiceState, used: number, max?: number) => ({
  service: `todo_${service}`,
  state,
  detail: '',
  attempts: { used, max },
});

describe('oneShotOutcomes', () => {
  test('by name in the stack file, with the runs Swarm made', () => {
    const results = [done('migrate', 'complete', 3, 7), done('collectstatic', 'failed', 2)];
    expect(oneShotOutcomes('todo', ['migrate', 'collectstatic'], results, false)).toEqual({
      migrate: { result: 'complete', runs: 3, 'max-runs': 7 },
      collectstatic: { result: 'failed', runs: 2 },
    });
  });

  test('still running when another one-shot failed: unfinished, with the attempts so far', () => {
    const results = [done('collectstatic', 'failed', 3, 3), done('migrate', 'unfinished', 1, 7)];
    const outcomes = oneShotOutcomes('todo', ['migrate', 'collectstatic'], results, false);
    expect(outcomes.migrate).toEqual({ result: 'unfinished', runs: 1, 'max-runs': 7 });
    expect(migrateOutput(outcomes)).toBe('unfinished');
    expect(migrateOutput({ a: { result: 'unfinished' }, b: { result: 'not-run' } })).toBe('unfinished');
  });

  test('without a verdict: timed-out when the wait ran out of time, else not-run', () => {
    expect(oneShotOutcomes('todo', ['migrate'], [], true)).toEqual({ migrate: { result: 'timed-out' } });
    expect(oneShotOutcomes('todo', ['migrate'], [], false)).toEqual({ migrate: { result: 'not-run' } });
  });
});

describe('migrateOutput', () => {
  const outcome = (result: 'complete' | 'failed' | 'timed-out' | 'unfinished' | 'not-run') => ({ result });
  test.each([
    ['none without one-shots', {}, 'none'],
    [
      'the service named migrate',
      { migrate: outcome('complete'), collectstatic: outcome('failed') },
      'complete',
    ],
    ['the only one-shot', { 'db-setup': outcome('failed') }, 'failed'],
    [
      'all of them: a failure first',
      { a: outcome('complete'), b: outcome('timed-out'), c: outcome('failed') },
      'failed',
    ],
    ['all of them: complete', { a: outcome('complete'), b: outcome('complete') }, 'complete'],
  ])('%s', (_, outcomes, expected) => {
    expect(migrateOutput(outcomes)).toBe(expected);
  });
});

describe('stepOutputs', () => {
  test('the tests are counted under names that read as counts, beside the one-shots and the image', () => {
    const outputs = stepOutputs(
      {
        mode: 'deploy',
        ok: true,
        phases: [],
        stack: 'todo',
        image: 'r/todo:abc1234',
        tag: 'abc1234',
        digest: 'sha256:aa',
        services: [],
        oneShots: [done('migrate', 'complete', 2, 7)],
        acceptance: { passed: 6, failed: 1 } as Report['acceptance'],
      },
      ['migrate'],
    );
    expect(outputs).toMatchObject({
      'tests-passed-count': '6',
      'tests-failed-count': '1',
      migrate: 'complete',
      'one-shots': '{"migrate":{"result":"complete","runs":2,"max-runs":7}}',
    });
    expect(Object.keys(outputs)).not.toContain('tests-passed');
  });
});
