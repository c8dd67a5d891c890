import type { DockerCli } from '../runner/docker.js';

/** Which builder docker build uses here, and the variables a build needs to get it. */
export interface Builder {
  buildKit: boolean;
  env: Record<string, string>;
}

/**
 * Whether docker build, given env, builds with BuildKit: its help lists --secret then, and not with
 * the classic builder (a CLI 23+ without buildx, or a CLI before 23 without DOCKER_BUILDKIT=1).
 */
async function offersSecrets(docker: DockerCli, env: Record<string, string>): Promise<boolean> {
  const help = await docker.run(['build', '--help'], { silent: true, env }, true);
  return /--secret\b/.test(help.stdout);
}

/**
 * The builder the docker CLI chooses by itself. Build secrets need BuildKit: a CLI that has it built
 * in (18.09 to 22) gets DOCKER_BUILDKIT=1 for the build, unless the step turned it off.
 */
export async function detectBuilder(docker: DockerCli, needBuildKit: boolean): Promise<Builder> {
  if (await offersSecrets(docker, {})) return { buildKit: true, env: {} };
  if (!needBuildKit) return { buildKit: false, env: {} };
  if (/^(0|false)$/i.test(docker.env().DOCKER_BUILDKIT ?? ''))
    throw new Error(
      "build-secrets need BuildKit, but the step's environment sets DOCKER_BUILDKIT=0: remove it",
    );
  const env = { DOCKER_BUILDKIT: '1' };
  if (await offersSecrets(docker, env)) return { buildKit: true, env };
  throw new Error(
    'build-secrets need BuildKit, and this docker CLI builds with the classic builder only: install buildx (docker/setup-buildx-action, or the docker-buildx-plugin package), or remove build-secrets',
  );
}
