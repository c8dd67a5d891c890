// mode deploy with image: the image built elsewhere is checked in ECR and deployed by its digest,
// never built; pulled onto the runner only for the acceptance tests, which run in it.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { DeployConfig } from '../../src/config/index.js';
import type { Run } from '../../src/modes/session.js';
import { recordingRun } from '../helpers/recording-run.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

const rollOut =
  jest.fn<
    (config: DeployConfig, run: Run, target: { image: string; pins: Record<string, string> }) => Promise<void>
  >();
const findImage = jest.fn<(...args: unknown[]) => Promise<string>>();
let auth = { registry: REGISTRY };
jest.unstable_mockModule('../../src/modes/rollout.js', () => ({ rollOut }));
jest.unstable_mockModule('../../src/registry/ecr.js', () => ({ findImage, checkRepositories: jest.fn() }));
jest.unstable_mockModule('../../src/modes/session.js', () => ({
  beginRollout: () =>
    Promise.resolve({
      tunnel: Promise.resolve(),
      auth,
      stack: { images: [{ repository: 'todo', services: ['app'] }] },
    }),
}));
const { deploy } = await import('../../src/modes/deploy.js');

const docker = jest.fn<(args: string[]) => Promise<{ exitCode: number; stdout: string }>>();
const { run, phases, reset } = recordingRun(docker);

const config = (over: Partial<DeployConfig> = {}) =>
  ({
    mode: 'deploy',
    repository: 'todo',
    tag: 'v1',
    extraTags: [],
    build: false,
    prebuilt: { registry: REGISTRY, digest: DIGEST },
    acceptance: true,
    ...over,
  }) as DeployConfig;

beforeEach(() => {
  auth = { registry: REGISTRY };
  rollOut.mockReset().mockResolvedValue();
  findImage.mockReset().mockResolvedValue(DIGEST);
  docker.mockReset().mockResolvedValue({ exitCode: 0, stdout: '' });
  reset();
});

describe('deploy with image', () => {
  test('checked in ECR, pulled for the tests, deployed as TAG@DIGEST; nothing built or pushed', async () => {
    const c = config();
    await deploy(c, run);
    expect(findImage).toHaveBeenCalledWith(c, {
      registry: REGISTRY,
      repository: 'todo',
      tag: 'v1',
      digest: DIGEST,
    });
    expect(docker.mock.calls).toEqual([[['pull', `${REGISTRY}/todo:v1@${DIGEST}`]]]);
    expect(run.report.digest).toBe(DIGEST);
    const [deployed, , target] = rollOut.mock.calls[0];
    // The stack's ${ECR_REGISTRY}/REPO:${APP_VERSION} (REPO:v1) is deployed as the digest that was checked.
    expect(deployed.tag).toBe('v1');
    expect(target.pins).toEqual({ [`${REGISTRY}/todo:v1`]: `${REGISTRY}/todo:v1@${DIGEST}` });
    expect(target.image).toBe(`${REGISTRY}/todo:v1@${DIGEST}`);
    expect(phases).not.toContain('Build and push');
  });

  test('a tag alone is deployed by the digest ECR holds for it', async () => {
    await deploy(config({ prebuilt: { registry: REGISTRY } }), run);
    expect(findImage).toHaveBeenCalledWith(expect.anything(), {
      registry: REGISTRY,
      repository: 'todo',
      tag: 'v1',
      digest: undefined,
    });
    expect(rollOut.mock.calls[0][2].pins).toEqual({
      [`${REGISTRY}/todo:v1`]: `${REGISTRY}/todo:v1@${DIGEST}`,
    });
  });

  test('without acceptance tests the image never comes to the runner', async () => {
    await deploy(config({ acceptance: false }), run);
    expect(docker).not.toHaveBeenCalled();
    expect(rollOut).toHaveBeenCalled();
  });

  test('an image not in ECR: one error naming image, nothing deployed', async () => {
    findImage.mockRejectedValueOnce(new Error(`no image todo:v1@${DIGEST} in ECR`));
    await expect(deploy(config(), run)).rejects.toThrow(`image: no image todo:v1@${DIGEST} in ECR`);
    expect(rollOut).not.toHaveBeenCalled();
    expect(docker).not.toHaveBeenCalled();
  });

  test('an image in another registry than the one logged in to: refused before ECR is asked', async () => {
    auth = { registry: '210987654321.dkr.ecr.us-east-1.amazonaws.com' };
    await expect(deploy(config(), run)).rejects.toThrow(
      `image: ${REGISTRY} is not the registry this run logs in to (210987654321.dkr.ecr.us-east-1.amazonaws.com): push the image there, or set registry-id (and aws-region) to the account (and region) of ${REGISTRY}`,
    );
    expect(findImage).not.toHaveBeenCalled();
    expect(rollOut).not.toHaveBeenCalled();
  });
});
