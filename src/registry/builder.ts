import type { DockerCli } from '../runner/docker.js';

/** Which builder docker build uses here. */
export interface Builder {
  buildKit: boolean;
}

/**
 * The builder the docker CLI (23 or later, as the action needs) chooses by itself: BuildKit when buildx
 * is installed (its build --help lists --secret), else the classic builder. Build secrets need
 * BuildKit.
 */
export async function detectBuilder(docker: DockerCli, needBuildKit: boolean): Promise<Builder> {
  const help = await docker.run(['build', '--help'], { silent: true }, true);
  if (/--secret\b/.test(help.stdout)) return { buildKit: true };
  if (!needBuildKit) return { buildKit: false };
  if (/^(0|false)$/i.test(docker.env().DOCKER_BUILDKIT ?? ''))
    throw new Error(
      "build-secrets need BuildKit, but the step's environment sets DOCKER_BUILDKIT=0: remove it",
    );
  throw new Error(
    'build-secrets need BuildKit, and this docker CLI builds with the classic builder only: install buildx (docker/setup-buildx-action, or the docker-buildx-plugin package), or remove build-secrets',
  );
}
