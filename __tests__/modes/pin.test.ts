// Every rollout deploys the digests it pushed, pulled or promoted: ECR is asked for each first (a
// registry that does not answer fails the run before anything on the swarm changes), then every
// service of the rendered stack that runs REPO:TAG gets REPO:TAG@DIGEST; the version variable keeps
// the plain tag.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { DeployConfig, Image, PromoteConfig } from '../../src/config/index.js';
import type { Run } from '../../src/modes/session.js';
import { recordingRun } from '../helpers/recording-run.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const PROXY_DIGEST = `sha256:${'ef'.repeat(32)}`;

const rollOut =
  jest.fn<
    (config: DeployConfig, run: Run, target: { image: string; pins: Record<string, string> }) => Promise<void>
  >();
const findImage =
  jest.fn<
    (
      config: unknown,
      ref: { registry: string; repository: string; tag: string; digest?: string },
    ) => Promise<string>
  >();
const buildAndPush = jest.fn<(...args: unknown[]) => Promise<unknown>>();
const pullExisting = jest.fn<(...args: unknown[]) => Promise<string>>();
const promoteImages = jest.fn<(...args: unknown[]) => Promise<string[]>>();
const checkRepositories = jest.fn<(...args: unknown[]) => Promise<void>>();
const deployRecords = jest.fn<(...args: unknown[]) => Promise<unknown[]>>();
jest.unstable_mockModule('../../src/modes/rollout.js', () => ({ rollOut }));
jest.unstable_mockModule('../../src/registry/ecr.js', () => ({
  findImage,
  promoteImages,
  checkRepositories,
  deployRecords,
}));
jest.unstable_mockModule('../../src/registry/build-and-push.js', () => ({
  buildAndPush,
  pullExisting,
}));
let images: Image[] = [];
jest.unstable_mockModule('../../src/modes/session.js', () => ({
  beginRollout: () =>
    Promise.resolve({ tunnel: Promise.resolve(), auth: { registry: REGISTRY }, stack: { images } }),
}));
const { deploy } = await import('../../src/modes/deploy.js');
const { promote } = await import('../../src/modes/promote.js');

const { run, phases, reset } = recordingRun(jest.fn());
const spec = { context: '/w', args: [], labels: {}, from: 'the context input' };

const config = (over: Partial<DeployConfig> = {}) =>
  ({
    mode: 'deploy',
    repository: 'todo',
    tag: 'abc1234',
    extraTags: [],
    build: true,
    buildSecrets: [],
    labels: {},
    ...over,
  }) as DeployConfig;

beforeEach(() => {
  for (const f of [rollOut, findImage, buildAndPush, pullExisting, promoteImages, checkRepositories])
    f.mockReset();
  images = [{ repository: 'todo', build: spec, services: ['app', 'migrate'] }];
  rollOut.mockResolvedValue();
  findImage.mockImplementation(async (_c, ref) => ref.digest ?? DIGEST);
  buildAndPush.mockImplementation(async (_d, built: unknown) =>
    (built as Image[]).map((i) => ({
      repository: i.repository,
      digest: i.repository === 'todo' ? DIGEST : PROXY_DIGEST,
      seconds: 1,
      cacheReused: false,
    })),
  );
  pullExisting.mockResolvedValue(DIGEST);
  deployRecords.mockImplementation(async (_c, repos: unknown) =>
    (repos as string[]).map((repository) => ({ repository, digest: DIGEST, passed: true })),
  );
  promoteImages.mockImplementation(async (_c, repos: unknown) =>
    (repos as string[]).map((r) => (r === 'todo' ? DIGEST : PROXY_DIGEST)),
  );
  reset();
});

describe('every rollout deploys the digests ECR confirmed', () => {
  test.each([
    ['a build', config(), 'Build and push'],
    ['an existing tag (build: false)', config({ build: false }), 'Pull existing image'],
  ])(
    '%s: ECR is asked for TAG@DIGEST after it, then the stack pins REPO:TAG to it; the tag stays plain',
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
      expect(deployed.tag).toBe('abc1234');
      expect(target.image).toBe(`${REGISTRY}/todo:abc1234@${DIGEST}`);
      expect(target.pins).toEqual({ [`${REGISTRY}/todo:abc1234`]: `${REGISTRY}/todo:abc1234@${DIGEST}` });
      expect(run.report.digest).toBe(DIGEST);
    },
  );

  test("two images: every repository checked before the build, each pinned; the first is the tests' image", async () => {
    images.push({ repository: 'todo-proxy', build: { ...spec, context: '/w/proxy' }, services: ['proxy'] });
    await deploy(config(), run);
    expect(checkRepositories.mock.calls[0][1]).toEqual(['todo', 'todo-proxy']);
    expect(checkRepositories.mock.invocationCallOrder[0]).toBeLessThan(
      buildAndPush.mock.invocationCallOrder[0],
    );
    const [, , target] = rollOut.mock.calls[0];
    expect(target.pins).toEqual({
      [`${REGISTRY}/todo:abc1234`]: `${REGISTRY}/todo:abc1234@${DIGEST}`,
      [`${REGISTRY}/todo-proxy:abc1234`]: `${REGISTRY}/todo-proxy:abc1234@${PROXY_DIGEST}`,
    });
    expect(target.image).toBe(`${REGISTRY}/todo:abc1234@${DIGEST}`);
    expect(run.report.images?.map((i) => [i.reference, i.services])).toEqual([
      [`${REGISTRY}/todo:abc1234`, ['app', 'migrate']],
      [`${REGISTRY}/todo-proxy:abc1234`, ['proxy']],
    ]);
  });

  test('promote: every image of the commit, all or none, checked under the release tag', async () => {
    images.push({ repository: 'todo-proxy', services: ['proxy'] });
    const c = { ...config(), mode: 'promote', tag: 'v1.2.0', sourceTag: 'abc1234' } as PromoteConfig;
    await promote(c, run);
    expect(phases).toEqual(["Wait for the commit's deploy", 'Promote image', 'Find image in ECR']);
    expect(promoteImages.mock.calls[0].slice(1, 4)).toEqual([['todo', 'todo-proxy'], 'abc1234', ['v1.2.0']]);
    expect(rollOut.mock.calls[0][2].pins).toEqual({
      [`${REGISTRY}/todo:v1.2.0`]: `${REGISTRY}/todo:v1.2.0@${DIGEST}`,
      [`${REGISTRY}/todo-proxy:v1.2.0`]: `${REGISTRY}/todo-proxy:v1.2.0@${PROXY_DIGEST}`,
    });
  });

  test('ECR not answering: the run stops before the rollout', async () => {
    findImage.mockRejectedValueOnce(new Error(`the registry ${REGISTRY} did not answer`));
    await expect(deploy(config(), run)).rejects.toThrow(`the registry ${REGISTRY} did not answer`);
    expect(rollOut).not.toHaveBeenCalled();
  });
});
