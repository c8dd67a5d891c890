import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import type { PromoteConfig } from '../config/index.js';
import { failedTag, passedTag, type DeployFailure } from '../naming.js';
import { deployRecords, promoteImages, type DeployRecord } from '../registry/ecr.js';
import { pinImages } from './pin.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

/** How often ECR is asked again while the commit's deploy is still running. */
const POLL_MS = 10_000;

const FAILED_AT: Record<DeployFailure, string> = {
  'one-shots': 'its one-shot services',
  rollout: 'its rollout',
  tests: 'its acceptance tests',
};

/**
 * promote: once a deploy of the commit passed with its images (see waitForPassed), give every one of
 * them the release tag (and extra tags) in ECR, all or none, without pulling or rebuilding, then roll
 * the release out by those digests.
 */
export async function promote(config: PromoteConfig, run: Run): Promise<void> {
  const { tunnel, auth, stack } = await beginRollout(config, run);
  const tags = [config.tag, ...config.extraTags];
  const repositories = stack.images.map((i) => i.repository);
  await run.timeline.phase("Wait for the commit's deploy", () => waitForPassed(config, run, repositories));
  const digests = await run.timeline.phase('Promote image', () =>
    promoteImages(config, repositories, config.sourceTag, tags, commitOf(config)),
  );
  run.report.promoted = tags;
  const obtained = repositories.map((repository, i) => ({ repository, digest: digests[i] }));
  const pinned = await pinImages(config, run, auth, stack.images, obtained);
  await rollOut(config, run, { ...pinned, tunnel, stack });
}

const commitOf = (config: PromoteConfig) => config.sha || config.sourceTag;

/**
 * Waits, up to promote-wait seconds, until ECR holds each of the commit's images (sourceTag) and a
 * deploy recorded that it passed with that very image (passedTag); refuses at once an image that a
 * deploy failed with and none passed with (failedTag), naming what failed. With promote-untested,
 * only the images are waited for, and the summary says so.
 */
async function waitForPassed(config: PromoteConfig, run: Run, repositories: string[]): Promise<void> {
  const deadline = Date.now() + config.promoteWait * 1000;
  const started = Date.now();
  for (;;) {
    const records = await deployRecords(config, repositories, config.sourceTag);
    if (!config.promoteUntested) refuseFailed(config, records);
    const waiting = records.filter((r) => !r.digest || (!config.promoteUntested && !r.passed));
    if (waiting.length === 0) {
      if (config.promoteUntested) {
        run.report.untested = true;
        core.warning(
          `promote-untested: releasing ${describe(config, records)} without checking that a deploy of commit ${commitOf(config)} passed`,
        );
      } else run.report.passedRecord = passedTag(config.sourceTag);
      return;
    }
    const what = waiting.map((r) => describeWaiting(config, r)).join('; ');
    if (Date.now() >= deadline)
      throw new Error(
        `commit ${commitOf(config)}: ${what}, after waiting ${config.promoteWait} s (promote-wait): promote only releases images a deploy of the commit passed with; deploy the commit (push it to the branch that deploys) and run this again, or raise promote-wait`,
      );
    core.info(
      `Waiting for the deploy of commit ${commitOf(config)}: ${what} (${Math.round((Date.now() - started) / 1000)} s of ${config.promoteWait} s)`,
    );
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
}

function refuseFailed(config: PromoteConfig, records: DeployRecord[]): void {
  const failed = records.filter((r) => r.failed && !r.passed);
  if (failed.length === 0) return;
  const said = failed.map(
    (r) =>
      `${FAILED_AT[r.failed!]} failed with ${r.repository}@${r.digest} (${failedTag(config.sourceTag, r.failed!)})`,
  );
  throw new Error(
    `commit ${commitOf(config)} is not released: its deploy failed: ${said.join('; ')}. Fix it in a new commit and release that, or re-run that deploy and, once it passes, this release; promote-untested: true releases it anyway`,
  );
}

function describe(config: PromoteConfig, records: DeployRecord[]): string {
  return records.map((r) => `${r.repository}:${config.sourceTag}`).join(', ');
}

function describeWaiting(config: PromoteConfig, r: DeployRecord): string {
  return r.digest
    ? `no deploy has passed with ${r.repository}:${config.sourceTag} yet (no ${passedTag(config.sourceTag)})`
    : `${r.repository}:${config.sourceTag} is not in ECR yet`;
}
