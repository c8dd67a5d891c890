// recordOutcome: a deploy's outcome tagged on each of its images in ECR (for promote), ECR stood in for.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { RolloutModeConfig } from '../../src/config/index.js';
import type { Run } from '../../src/modes/session.js';

const recordDeploy = jest.fn<(target: unknown, images: unknown, record: string) => Promise<void>>();
const warning = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ warning }));
jest.unstable_mockModule('../../src/registry/ecr.js', () => ({ recordDeploy }));
const { recordOutcome } = await import('../../src/modes/outcome.js');

const deployed = [
  { repository: 'todo', digest: `sha256:${'ab'.repeat(32)}` },
  { repository: 'todo-proxy', digest: `sha256:${'cd'.repeat(32)}` },
];
const config = (mode: RolloutModeConfig['mode']) => ({ mode, tag: 'abc1234' }) as RolloutModeConfig;
let run: Run;

beforeEach(() => {
  recordDeploy.mockReset();
  recordDeploy.mockResolvedValue();
  warning.mockReset();
  run = { report: {} } as Run;
});

describe('recordOutcome', () => {
  test('a deploy that passed: passed-TAG on every image it deployed, and in the report', async () => {
    await recordOutcome(config('deploy'), run, deployed);
    expect(recordDeploy).toHaveBeenCalledWith(config('deploy'), deployed, 'passed-abc1234');
    expect(run.report.recorded).toBe('passed-abc1234');
  });

  test.each(['one-shots', 'rollout', 'tests'] as const)(
    'a deploy whose %s failed: failed-WHAT-TAG',
    async (what) => {
      await recordOutcome(config('deploy'), run, deployed, what);
      expect(recordDeploy).toHaveBeenCalledWith(config('deploy'), deployed, `failed-${what}-abc1234`);
      expect(run.report.recorded).toBe(`failed-${what}-abc1234`);
    },
  );

  test.each(['preview', 'promote'] as const)('%s records nothing', async (mode) => {
    await recordOutcome(config(mode), run, deployed);
    expect(recordDeploy).not.toHaveBeenCalled();
    expect(run.report.recorded).toBeUndefined();
  });

  test('no image deployed: nothing to record', async () => {
    await recordOutcome(config('deploy'), run, []);
    expect(recordDeploy).not.toHaveBeenCalled();
  });

  test('a record ECR refuses is a warning, and the report says nothing was recorded', async () => {
    recordDeploy.mockRejectedValue(new Error('AccessDenied'));
    await expect(recordOutcome(config('deploy'), run, deployed, 'tests')).resolves.toBeUndefined();
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('(failed-tests-abc1234)'));
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('AccessDenied'));
    expect(run.report.recorded).toBeUndefined();
  });
});
