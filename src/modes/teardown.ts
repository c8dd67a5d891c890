import * as core from '@actions/core';
import type { TeardownConfig } from '../config/index.js';
import { previewTagPrefix } from '../naming.js';
import { deleteImagesTagged } from '../registry/ecr.js';
import { teardownStack } from '../swarm/teardown.js';
import { connect, startTunnel, takeLock, type Run } from './session.js';

/** teardown: remove a pull request's preview stack and all it left behind, and optionally its images. */
export async function teardown(config: TeardownConfig, run: Run): Promise<void> {
  const manager = await connect(config, run, startTunnel(config, run));
  await takeLock(config, run, manager.engine);
  const result = await run.timeline.phase('Teardown', () =>
    teardownStack(manager.cli, manager.engine, config.stackName, config.convergeTimeout),
  );
  run.report.teardown = result;
  if (!result.existed) core.notice(`There is no stack ${config.stackName}: nothing to tear down`);
  if (!config.deleteImages) return;
  const prefix = previewTagPrefix(config.preview.number);
  const deleted = await run.timeline.phase('Delete images', () =>
    deleteImagesTagged(config, config.repository, prefix),
  );
  core.info(
    deleted.length > 0 ? `Deleted ${config.repository}:${deleted.join(', ')}` : `No image tagged ${prefix}*`,
  );
}
