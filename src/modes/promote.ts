import type { PromoteConfig } from '../config/index.js';
import { promoteImage } from '../registry/ecr.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

/**
 * promote: give the image already built and tested for the commit the release tag (and extra tags)
 * in ECR, without pulling or rebuilding, then roll the release out.
 */
export async function promote(config: PromoteConfig, run: Run): Promise<void> {
  const { tunnel, auth, image } = await beginRollout(config, run);
  const tags = [config.tag, ...config.extraTags];
  run.report.digest = await run.timeline.phase('Promote image', () =>
    promoteImage(config, config.repository, config.sourceTag, tags, config.sha || config.sourceTag),
  );
  run.report.promoted = tags;
  await rollOut(config, run, { auth, image, tunnel });
}
