import * as core from '@actions/core';
import type { TeardownConfig } from '../config/index.js';
import { previewTagPrefix } from '../naming.js';
import { deleteImagesTagged } from '../registry/ecr.js';
import { imageRepositories, teardownStack } from '../swarm/teardown.js';
import { connect, startTunnel, takeLock, type Run } from './session.js';

/**
 * teardown: remove a pull request's preview stack and all it left behind, and optionally its images:
 * the pull request's tags in ecr-repository and in each repository preview-allow grants (repository:NAME)
 * whose image the preview ran. A preview's stack file may run any image: its tags elsewhere are left.
 */
export async function teardown(config: TeardownConfig, run: Run): Promise<void> {
  const manager = await connect(run, startTunnel(config, run));
  await takeLock(config, run, manager.engine);
  const prefix = previewTagPrefix(config.preview.number);
  const ran = config.deleteImages ? await imageRepositories(manager.engine, config.stackName, prefix) : [];
  const result = await run.timeline.phase('Teardown', () =>
    teardownStack(manager.cli, manager.engine, config.stackName, config.convergeTimeout),
  );
  run.report.teardown = result;
  if (!result.existed) core.notice(`There is no stack ${config.stackName}: nothing to tear down`);
  if (!config.deleteImages) return;
  const repositories = repositoriesToClean(config, ran);
  for (const other of ran.filter((r) => !repositories.includes(r)))
    core.info(`Left ${other}:${prefix}*: not ecr-repository nor a repository: entry of preview-allow`);
  await run.timeline.phase('Delete images', async () => {
    for (const repository of repositories) {
      const deleted = await deleteImagesTagged(config, repository, prefix);
      core.info(
        deleted.length > 0
          ? `Deleted ${repository}:${deleted.join(', ')}`
          : `No image ${repository}:${prefix}*`,
      );
    }
  });
}

/**
 * Where a teardown deletes the pull request's tags: ecr-repository, and each repository the preview
 * could push to (a repository: grant) whose image it ran. A preview may run any image: not elsewhere.
 */
export function repositoriesToClean(
  config: Pick<TeardownConfig, 'repository' | 'grantedRepositories'>,
  ran: string[],
): string[] {
  return [config.repository, ...config.grantedRepositories.filter((r) => ran.includes(r))];
}
