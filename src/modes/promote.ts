import type { PromoteConfig } from '../config/index.js';
import { promoteImage } from '../registry/ecr.js';
import { imageName } from '../registry/image.js';
import { rollOut } from './rollout.js';
import { ecrLogin, startTunnel, type Run } from './session.js';

/**
 * promote: give the image already built and tested for the commit the release tag (and extra tags)
 * in ECR, without pulling or rebuilding, then roll the release out.
 */
export async function promote(config: PromoteConfig, run: Run): Promise<void> {
  const tunnel = startTunnel(config, run);
  const auth = await ecrLogin(config, run);
  const image = imageName(auth.registry, config.repository, config.tag);
  Object.assign(run.report, { image, tag: config.tag, registry: auth.registry });
  const tags = [config.tag, ...config.extraTags];
  run.report.digest = await run.timeline.phase('Promote image', () =>
    promoteImage(config.awsRegion, config.repository, config.sourceTag, tags, config.sha || config.sourceTag),
  );
  run.report.promoted = tags;
  await rollOut(config, run, { auth, image, tunnel });
}
