// Timeline: each phase's start, duration and outcome; a phase alongside others is no log group.
import { describe, expect, jest, test } from '@jest/globals';

const group = jest.fn(async (_name: string, fn: () => Promise<unknown>) => fn());
const info = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ group, info }));
const { Timeline } = await import('../src/timeline.js');

const abort = () => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

describe('Timeline', () => {
  test('ok, failed, and skipped when another phase stopped it; the value and the error pass through', async () => {
    const timeline = new Timeline();
    await expect(timeline.phase('Build', async () => 'digest')).resolves.toBe('digest');
    await expect(
      timeline.phase('Converge', () => Promise.reject(new Error('update paused'))),
    ).rejects.toThrow('update paused');
    await expect(timeline.phase('One-shot services', () => Promise.reject(abort()))).rejects.toThrow(
      'aborted',
    );
    expect(timeline.phases.map((p) => [p.name, p.status])).toEqual([
      ['Build', 'ok'],
      ['Converge', 'failed'],
      ['One-shot services', 'skipped'],
    ]);
    for (const p of timeline.phases) {
      expect(p.started).toBeGreaterThanOrEqual(0);
      expect(p.seconds).toBeGreaterThanOrEqual(0);
    }
  });

  test('a phase alongside others logs its start instead of a group', async () => {
    group.mockClear();
    const timeline = new Timeline();
    await timeline.phase('Stack deploy', async () => {});
    await timeline.phase('Converge', async () => {}, { alongside: true });
    expect(group.mock.calls.map((c) => c[0])).toEqual(['Stack deploy']);
    expect(info).toHaveBeenCalledWith('Converge: started');
  });
});
