import type { PromoteConfig } from '../config/index.js';
import { promoteImage } from '../registry/ecr.js';
import { pinImage } from './pin.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

/**
 * promote: give the image already built and tested for the commit the release tag (and extra tags)
 * in ECR, without pulling or rebuilding, then roll the release out by that digest.
 */
export async function promote(config: PromoteConfig, run: Run): Promise<void> {
  const { tunnel, auth } = await beginRollout(config, run);
  const tags = [config.tag, ...config.extraTags];
  run.report.digest = await run.timeline.phase('Promote image', () =>
    promoteImage(config, config.repository, config.sourceTag, tags, config.sha || config.sourceTag),
  );
  run.report.promoted = tags;
  const pinned = await pinImage(config, run, auth, { digest: run.report.digest });
  await rollOut(pinned.config, run, { auth, image: pinned.image, tunnel });
}
