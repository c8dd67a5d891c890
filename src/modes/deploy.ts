import type { DeployConfig, PreviewConfig } from '../config/index.js';
import { buildAndPush, imageName, pullExisting } from '../registry/image.js';
import { rollOut } from './rollout.js';
import { beginRollout, type Run } from './session.js';

/**
 * deploy (and preview, which deploys a pull request's stack of its own): ECR login, build and push
 * the commit's image (or pull an existing tag), then roll it out.
 */
export async function deploy(config: DeployConfig | PreviewConfig, run: Run): Promise<void> {
  const { tunnel, auth, image } = await beginRollout(config, run);
  const repo = `${auth.registry}/${config.repository}`;
  const refs = [image, ...config.extraTags.map((t) => imageName(auth.registry, config.repository, t))];
  run.report.digest = await run.timeline.phase(config.build ? 'Build and push' : 'Pull existing image', () =>
    config.build ? buildAndPush(run.local, config, repo, refs) : pullExisting(run.local, repo, image),
  );
  await rollOut(config, run, { auth, image, tunnel });
}
