import * as core from '@actions/core';
import { MODES, type RolloutModeConfig } from '../config/index.js';
import { failedTag, passedTag, type DeployFailure } from '../naming.js';
import { recordDeploy } from '../registry/ecr.js';
import type { Run } from './session.js';

/** An image the rollout deployed, by its digest. */
export interface Deployed {
  repository: string;
  digest: string;
}

/**
 * deploy: what the deploy of the commit's images came to, recorded on each of them in ECR (passedTag, or
 * failedTag naming what failed) for promote, which releases only images a deploy passed with. Previews
 * and promote record nothing. A record that cannot be written is a warning: the deploy's outcome stands.
 */
export async function recordOutcome(
  config: RolloutModeConfig,
  run: Run,
  deployed: Deployed[],
  failed?: DeployFailure,
): Promise<void> {
  if (!MODES[config.mode].recordsOutcome || deployed.length === 0) return;
  const record = failed ? failedTag(config.tag, failed) : passedTag(config.tag);
  try {
    await recordDeploy(config, deployed, record);
    run.report.recorded = record;
  } catch (e) {
    core.warning(
      `could not record the deploy's outcome (${record}) on its images in ECR, so promote will not release them (unless promote-untested): ${(e as Error).message}`,
    );
  }
}
