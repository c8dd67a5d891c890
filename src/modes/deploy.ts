import type { DeployConfig, PrebuiltImage, PreviewConfig } from '../config/index.js';
import { checkRepository, type RegistryAuth } from '../registry/ecr.js';
import { buildAndPush, imageName, pullExisting } from '../registry/image.js';
import type { Tunnel } from '../ssh/tunnel.js';
import { pinImage } from './pin.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

type Config = DeployConfig | PreviewConfig;

/**
 * deploy (and preview, which deploys a pull request's stack of its own): ECR login, build and push
 * the commit's image (or pull an existing tag, or check an image built elsewhere), then roll out the
 * digest ECR holds.
 */
export async function deploy(config: Config, run: Run): Promise<void> {
  const { tunnel, auth, image } = await beginRollout(config, run);
  if (config.prebuilt) return deployPrebuilt(config, config.prebuilt, run, { tunnel, auth });
  const repo = `${auth.registry}/${config.repository}`;
  const refs = [image, ...config.extraTags.map((t) => imageName(auth.registry, config.repository, t))];
  run.report.digest = await run.timeline.phase(
    config.build ? 'Build and push' : 'Pull existing image',
    async () => {
      if (!config.build) return pullExisting(run.local, repo, image);
      await checkRepository(config, config.repository, auth.registry);
      return buildAndPush(run.local, config, repo, refs);
    },
  );
  const pinned = await pinImage(config, run, auth, { digest: run.report.digest });
  await rollOut(pinned.config, run, { auth, image: pinned.image, tunnel });
}

/**
 * image: an image built elsewhere, found in ECR and deployed by its digest. It comes to the runner
 * only for the acceptance tests, when they run in it.
 */
async function deployPrebuilt(
  config: Config,
  prebuilt: PrebuiltImage,
  run: Run,
  { tunnel, auth }: { tunnel: Promise<Tunnel>; auth: RegistryAuth },
): Promise<void> {
  if (prebuilt.registry !== auth.registry)
    throw new Error(
      `image: ${prebuilt.registry} is not the registry this run logs in to (${auth.registry}): push the image there, or set registry-id (and aws-region) to the account (and region) of ${prebuilt.registry}`,
    );
  const pinned = await pinImage(config, run, auth, { digest: prebuilt.digest, input: 'image' });
  if (config.acceptance && !config.acceptanceImage)
    await run.timeline.phase('Pull image for the tests', () => run.local.run(['pull', pinned.image]));
  await rollOut(pinned.config, run, { auth, image: pinned.image, tunnel });
}
