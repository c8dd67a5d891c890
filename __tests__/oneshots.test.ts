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

  test('without a verdict: timed-out when the wait ran out of time, else not-run', () => {
    expect(oneShotOutcomes('todo', ['migrate'], [], true)).toEqual({ migrate: { result: 'timed-out' } });
    expect(oneShotOutcomes('todo', ['migrate'], [], false)).toEqual({ migrate: { result: 'not-run' } });
  });
});

describe('migrateOutput', () => {
  const outcome = (result: 'complete' | 'failed' | 'timed-out' | 'not-run') => ({ result });
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
