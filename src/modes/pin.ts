import type { RolloutConfig } from '../config/index.js';
import { findImage, type RegistryAuth } from '../registry/ecr.js';
import { imageName } from '../registry/image.js';
import type { Run } from './session.js';

/**
 * What every rollout deploys: the image at the digest it pushed, pulled or promoted (or, given a tag
 * alone, the one ECR holds for it), once ECR says it holds it, within a short timeout: a registry that
 * does not answer stops the run here, before the deploy lock and before anything on the swarm changes.
 * The version variable then carries TAG@DIGEST, so the stack file's REPO:${APP_VERSION} names exactly
 * that image, and docker stack deploy need not ask the registry for it. input, when the reference came
 * from one, starts the error.
 */
export async function pinImage<C extends RolloutConfig>(
  config: C,
  run: Run,
  auth: RegistryAuth,
  { digest, input }: { digest?: string; input?: string } = {},
): Promise<{ config: C; image: string }> {
  const image = { registry: auth.registry, repository: config.repository, tag: config.tag, digest };
  const found = await run.timeline.phase('Find image in ECR', () =>
    findImage(config, image).catch((err: Error) => {
      throw input ? new Error(`${input}: ${err.message}`, { cause: err }) : err;
    }),
  );
  run.report.digest = found;
  const tag = `${config.tag}@${found}`;
  return { config: { ...config, tag }, image: imageName(auth.registry, config.repository, tag) };
}
