import { describe, expect, test } from '@jest/globals';
import { migrateOutput, oneShotOutcomes } from '../src/report/outputs.js';

const done = (service: string, state: string, used: number, max?: number) => ({
  service: `todo_${service}`,
  state,
  detail: '',
  attempts: { used, max },
});

describe('oneShotOutcomes', () => {
  test('by name in the stack file, with the attempts used', () => {
    const results = [done('migrate', 'complete', 3, 7), done('collectstatic', 'failed', 2)];
    expect(oneShotOutcomes('todo', ['migrate', 'collectstatic'], results, false)).toEqual({
      migrate: { result: 'complete', attempts: 3, 'max-attempts': 7 },
      collectstatic: { result: 'failed', attempts: 2 },
    });
  });

  test('still running when another one-shot failed: unfinished, with the attempts so far', () => {
    const results = [done('collectstatic', 'failed', 3, 3), done('migrate', 'unfinished', 1, 7)];
    const outcomes = oneShotOutcomes('todo', ['migrate', 'collectstatic'], results, false);
    expect(outcomes.migrate).toEqual({ result: 'unfinished', attempts: 1, 'max-attempts': 7 });
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
