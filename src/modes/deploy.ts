import type { BuildSpec, DeployConfig, Image, PrebuiltImage, PreviewConfig } from '../config/index.js';
import { checkRepositories, type RegistryAuth } from '../registry/ecr.js';
import { imageName } from '../naming.js';
import { buildAndPush, pullExisting, type BuildRun } from '../registry/build-and-push.js';
import type { Tunnel } from '../ssh/tunnel.js';
import type { RenderedStack } from '../stack/read.js';
import { pinImages, type Obtained } from './pin.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

type Config = DeployConfig | PreviewConfig;

/**
 * How many images are built at once: two at once took 0.75x the time of one after another, with or
 * without cache, on 2 cores (bench/README.md, bench/images.ts); their output is then shown whole as
 * each build ends.
 */
const BUILD_CONCURRENCY = 2;

/**
 * deploy (and preview, which deploys a pull request's stack of its own): ECR login, build and push
 * the run's images (or pull existing tags, or check an image built elsewhere), then roll out the
 * digests ECR holds.
 */
export async function deploy(config: Config, run: Run): Promise<void> {
  const { tunnel, auth, stack } = await beginRollout(config, run);
  if (config.prebuilt) return deployPrebuilt(config, config.prebuilt, run, { tunnel, auth, stack });
  const obtained = await run.timeline.phase(
    config.build ? 'Build and push' : 'Pull existing image',
    async (): Promise<Obtained[]> => {
      if (!config.build) return pullImages(config, run, auth.registry, stack.images);
      await checkRepositories(
        config,
        stack.images.map((i) => i.repository),
        auth.registry,
      );
      const built = await buildAndPush(run.local, stack.images.filter(isBuilt), buildRun(config, auth), {
        concurrency: BUILD_CONCURRENCY,
      });
      return built.map(({ repository, digest, seconds, cacheReused }) => ({
        repository,
        digest,
        build: { seconds, cacheReused },
      }));
    },
  );
  const pinned = await pinImages(config, run, auth, stack.images, obtained);
  await rollOut(config, run, { ...pinned, tunnel, stack });
}

const isBuilt = (image: Image): image is Image & { build: BuildSpec } => image.build !== undefined;

/** What every build of the run shares. */
const buildRun = (config: Config, auth: RegistryAuth): BuildRun => ({
  registry: auth.registry,
  tag: config.tag,
  extraTags: config.extraTags,
  sha: config.sha,
  workspace: config.workspace,
  cache: config.cache,
  buildSecrets: config.buildSecrets,
  labels: config.labels,
  repositoryUrl: config.repositoryUrl,
});

/** build: false: each image's existing tag, pulled (the first is what the tests run in). */
async function pullImages(config: Config, run: Run, registry: string, images: Image[]): Promise<Obtained[]> {
  const obtained: Obtained[] = [];
  for (const { repository } of images) {
    const ref = imageName(registry, repository, config.tag);
    obtained.push({ repository, digest: await pullExisting(run.local, `${registry}/${repository}`, ref) });
  }
  return obtained;
}

/**
 * image: an image built elsewhere, found in ECR and deployed by its digest. It comes to the runner
 * only for the acceptance tests, when they run in it.
 */
async function deployPrebuilt(
  config: Config,
  prebuilt: PrebuiltImage,
  run: Run,
  { tunnel, auth, stack }: { tunnel: Promise<Tunnel>; auth: RegistryAuth; stack: RenderedStack },
): Promise<void> {
  if (prebuilt.registry !== auth.registry)
    throw new Error(
      `image: ${prebuilt.registry} is not the registry this run logs in to (${auth.registry}): push the image there, or set registry-id (and aws-region) to the account (and region) of ${prebuilt.registry}`,
    );
  const obtained = [{ repository: config.repository, digest: prebuilt.digest }];
  const pinned = await pinImages(config, run, auth, stack.images, obtained, { input: 'image' });
  if (config.acceptance && !config.acceptanceImage)
    await run.timeline.phase('Pull image for the tests', () => run.local.run(['pull', pinned.image]));
  await rollOut(config, run, { ...pinned, tunnel, stack });
}
