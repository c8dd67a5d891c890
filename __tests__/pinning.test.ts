// Every rollout deploys the digest it pushed, pulled or promoted: ECR is asked for it first (a registry
// that does not answer fails the run before anything on the swarm changes), then the version variable
// carries TAG@DIGEST.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { DeployConfig, PromoteConfig } from '../src/config/index.js';
import type { Run } from '../src/modes/session.js';
import { recordingRun } from './recording-run.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'cd'.repeat(32)}`;

const rollOut = jest.fn<(config: DeployConfig, run: Run, target: { image: string }) => Promise<void>>();
const findImage = jest.fn<(...args: unknown[]) => Promise<string>>();
const buildAndPush = jest.fn<(...args: unknown[]) => Promise<string>>();
const pullExisting = jest.fn<(...args: unknown[]) => Promise<string>>();
const promoteImage = jest.fn<(...args: unknown[]) => Promise<string>>();
jest.unstable_mockModule('../src/modes/rollout.js', () => ({ rollOut }));
jest.unstable_mockModule('../src/registry/ecr.js', () => ({
  findImage,
  promoteImage,
  checkRepository: jest.fn(),
}));
jest.unstable_mockModule('../src/registry/image.js', () => ({
  buildAndPush,
  pullExisting,
  imageName: (registry: string, repository: string, tag: string) => `${registry}/${repository}:${tag}`,
}));
jest.unstable_mockModule('../src/modes/session.js', () => ({
  beginRollout: (config: DeployConfig) =>
    Promise.resolve({
      tunnel: Promise.resolve(),
      auth: { registry: REGISTRY },
      image: `${REGISTRY}/todo:${config.tag}`,
    }),
}));
const { deploy } = await import('../src/modes/deploy.js');
const { promote } = await import('../src/modes/promote.js');

const { run, phases, reset } = recordingRun(jest.fn());

const config = (over: Partial<DeployConfig> = {}) =>
  ({
    mode: 'deploy',
    repository: 'todo',
    tag: 'abc1234',
    extraTags: [],
    build: true,
    ...over,
  }) as DeployConfig;

beforeEach(() => {
  for (const f of [rollOut, findImage, buildAndPush, pullExisting, promoteImage]) f.mockReset();
  rollOut.mockResolvedValue();
  findImage.mockResolvedValue(DIGEST);
  buildAndPush.mockResolvedValue(DIGEST);
  pullExisting.mockResolvedValue(DIGEST);
  promoteImage.mockResolvedValue(DIGEST);
  reset();
});

describe('every rollout deploys the digest ECR confirmed', () => {
  test.each([
    ['a build', config(), 'Build and push'],
    ['an existing tag (build: false)', config({ build: false }), 'Pull existing image'],
  ])(
    '%s: ECR is asked for TAG@DIGEST after it, then the version variable is TAG@DIGEST',
    async (_n, c, first) => {
      await deploy(c, run);
      expect(phases).toEqual([first, 'Find image in ECR']);
      expect(findImage).toHaveBeenCalledWith(c, {
        registry: REGISTRY,
        repository: 'todo',
        tag: 'abc1234',
        digest: DIGEST,
      });
      const [deployed, , target] = rollOut.mock.calls[0];
      expect(deployed.tag).toBe(`abc1234@${DIGEST}`);
      expect(target.image).toBe(`${REGISTRY}/todo:abc1234@${DIGEST}`);
      expect(run.report.digest).toBe(DIGEST);
    },
  );

  test('promote: the promoted digest, checked under the release tag', async () => {
    const c = { ...config(), mode: 'promote', tag: 'v1.2.0', sourceTag: 'abc1234' } as PromoteConfig;
    await promote(c, run);
    expect(phases).toEqual(['Promote image', 'Find image in ECR']);
    expect(findImage).toHaveBeenCalledWith(c, {
      registry: REGISTRY,
      repository: 'todo',
      tag: 'v1.2.0',
      digest: DIGEST,
    });
    expect(rollOut.mock.calls[0][0].tag).toBe(`v1.2.0@${DIGEST}`);
  });

  test('ECR not answering: the run stops before the rollout, with the digest pushed as its output', async () => {
    findImage.mockRejectedValueOnce(new Error(`the registry ${REGISTRY} did not answer`));
    await expect(deploy(config(), run)).rejects.toThrow(`the registry ${REGISTRY} did not answer`);
    expect(rollOut).not.toHaveBeenCalled();
    expect(run.report.digest).toBe(DIGEST);
  });
});
