import type { PromoteConfig } from '../config/index.js';
import { promoteImages } from '../registry/ecr.js';
import { pinImages } from './pin.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

/**
 * promote: give every image already built and tested for the commit (each of the stack's images of
 * the run) the release tag (and extra tags) in ECR, all or none, without pulling or rebuilding, then
 * roll the release out by those digests.
 */
export async function promote(config: PromoteConfig, run: Run): Promise<void> {
  const { tunnel, auth, stack } = await beginRollout(config, run);
  const tags = [config.tag, ...config.extraTags];
  const repositories = stack.images.map((i) => i.repository);
  const digests = await run.timeline.phase('Promote image', () =>
    promoteImages(config, repositories, config.sourceTag, tags, config.sha || config.sourceTag),
  );
  run.report.promoted = tags;
  const obtained = repositories.map((repository, i) => ({ repository, digest: digests[i] }));
  const pinned = await pinImages(config, run, auth, stack.images, obtained);
  await rollOut(config, run, { ...pinned, tunnel, stack });
}
