// promote releases only images a deploy of the commit passed with: it waits (promote-wait) for the
// commit's images and that record, refuses an image a deploy failed with, and promote-untested skips
// the record (the summary says so).
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { PromoteConfig } from '../../src/config/index.js';
import type { DeployRecord } from '../../src/registry/ecr.js';
import { recordingRun } from '../helpers/recording-run.js';

const DIGEST = `sha256:${'cd'.repeat(32)}`;
const deployRecords = jest.fn<(...args: unknown[]) => Promise<DeployRecord[]>>();
const promoteImages = jest.fn<(...args: unknown[]) => Promise<string[]>>();
const sleep = jest.fn<(ms: number) => Promise<void>>();
const warning = jest.fn();
const info = jest.fn();
jest.unstable_mockModule('node:timers/promises', () => ({ setTimeout: sleep }));
jest.unstable_mockModule('@actions/core', () => ({ info, warning }));
jest.unstable_mockModule('../../src/registry/ecr.js', () => ({ deployRecords, promoteImages }));
jest.unstable_mockModule('../../src/modes/pin.js', () => ({
  pinImages: async () => ({ image: 'r/todo:v1.2.0@' + DIGEST, pins: {}, deployed: [] }),
}));
const rollOut = jest.fn<() => Promise<void>>();
jest.unstable_mockModule('../../src/modes/rollout.js', () => ({ rollOut }));
jest.unstable_mockModule('../../src/modes/session.js', () => ({
  beginRollout: () =>
    Promise.resolve({
      tunnel: Promise.resolve(),
      auth: { registry: 'r' },
      stack: { images: [{ repository: 'todo', services: ['app'] }] },
    }),
}));
const { promote } = await import('../../src/modes/promote.js');
const { run, phases, reset } = recordingRun(jest.fn());

const config = (over: Partial<PromoteConfig> = {}) =>
  ({
    mode: 'promote',
    repository: 'todo',
    tag: 'v1.2.0',
    extraTags: [],
    sourceTag: 'abc1234',
    sha: 'abc1234' + 'f'.repeat(33),
    promoteWait: 1800,
    promoteUntested: false,
    ...over,
  }) as PromoteConfig;

const notPushed: DeployRecord = { repository: 'todo', passed: false };
const pushed: DeployRecord = { repository: 'todo', digest: DIGEST, passed: false };
const passed: DeployRecord = { ...pushed, passed: true };

beforeEach(() => {
  for (const f of [deployRecords, promoteImages, sleep, warning, info, rollOut]) f.mockReset();
  sleep.mockResolvedValue();
  promoteImages.mockResolvedValue([DIGEST]);
  reset();
});

describe('promote releases only what a deploy passed with', () => {
  test('started before the deploy finished: waits, logging what for, then releases', async () => {
    deployRecords
      .mockResolvedValueOnce([notPushed])
      .mockResolvedValueOnce([pushed])
      .mockResolvedValueOnce([passed]);
    await promote(config(), run);
    expect(deployRecords).toHaveBeenCalledTimes(3);
    expect(sleep).toHaveBeenCalledTimes(2);
    expect(sleep.mock.calls[0][0]).toBeLessThanOrEqual(10_000);
    expect(info.mock.calls.map(([m]) => m)).toEqual([
      expect.stringMatching(/^Waiting for the deploy of commit abc1234f+: todo:abc1234 is not in ECR yet/),
      expect.stringMatching(/no deploy has passed with todo:abc1234 yet \(no passed-abc1234\)/),
    ]);
    expect(phases).toEqual(["Wait for the commit's deploy", 'Promote image']);
    expect(run.report.passedRecord).toBe('passed-abc1234');
    expect(run.report.untested).toBeUndefined();
    expect(rollOut).toHaveBeenCalled();
  });

  test('a deploy whose acceptance tests failed: refused at once, naming the commit and what failed; no tag moved', async () => {
    deployRecords.mockResolvedValue([{ ...pushed, failed: 'tests' }]);
    await expect(promote(config(), run)).rejects.toThrow(
      `commit abc1234${'f'.repeat(33)} is not released: its deploy failed: its acceptance tests failed with todo@${DIGEST} (failed-tests-abc1234)`,
    );
    expect(sleep).not.toHaveBeenCalled();
    expect(promoteImages).not.toHaveBeenCalled();
    expect(rollOut).not.toHaveBeenCalled();
  });

  test('a passed deploy of the same image outweighs a failed one', async () => {
    deployRecords.mockResolvedValue([{ ...passed, failed: 'one-shots' }]);
    await promote(config(), run);
    expect(promoteImages).toHaveBeenCalled();
  });

  test('promote-wait ran out: names what it waited for and the input', async () => {
    deployRecords.mockResolvedValue([pushed]);
    await expect(promote(config({ promoteWait: 0 }), run)).rejects.toThrow(
      /no deploy has passed with todo:abc1234 yet \(no passed-abc1234\), after waiting 0 s \(promote-wait\)/,
    );
    expect(deployRecords).toHaveBeenCalledTimes(1);
    expect(promoteImages).not.toHaveBeenCalled();
  });

  test('promote-untested: the image alone is waited for; a failed deploy does not stop it; the summary says so', async () => {
    deployRecords.mockResolvedValueOnce([notPushed]).mockResolvedValue([{ ...pushed, failed: 'tests' }]);
    await promote(config({ promoteUntested: true }), run);
    expect(deployRecords).toHaveBeenCalledTimes(2);
    expect(promoteImages).toHaveBeenCalled();
    expect(run.report.untested).toBe(true);
    expect(warning.mock.calls[0][0]).toMatch(/^promote-untested: releasing todo:abc1234 without checking/);
  });
});
