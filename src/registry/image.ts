import type { DockerCli } from '../runner/docker.js';
import type { ImageConfig } from '../config/index.js';

export function imageName(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

/** docker build arguments for the configured context, Dockerfile, build args, target and tags. */
export function buildArgs(config: ImageConfig, refs: string[]): string[] {
  const args = ['build'];
  for (const ref of refs) args.push('--tag', ref);
  if (config.dockerfile) args.push('--file', config.dockerfile);
  for (const a of config.buildArgs) args.push('--build-arg', a);
  if (config.target) args.push('--target', config.target);
  args.push(config.context);
  return args;
}

/** The digest of `repo` among an image's RepoDigests ("repo@sha256:..."). */
export function digestOf(repoDigests: string[], repo: string): string | undefined {
  const match = repoDigests.find((d) => d.startsWith(`${repo}@`));
  return match?.slice(repo.length + 1);
}

/** Builds and pushes every tag; returns the pushed digest. */
export async function buildAndPush(
  docker: DockerCli,
  config: ImageConfig,
  repo: string,
  refs: string[],
): Promise<string> {
  await docker.run(buildArgs(config, refs));
  for (const ref of refs) await docker.run(['push', ref]);
  return inspectDigest(docker, repo, refs[0]);
}

/** Deploys an existing tag: pulls it (for the acceptance run) and returns its digest. */
export async function pullExisting(docker: DockerCli, repo: string, ref: string): Promise<string> {
  const pulled = await docker.run(['pull', ref], {}, true);
  if (pulled.exitCode !== 0) {
    throw new Error(`build is false but ${ref} could not be pulled: push it first, or set build: true`);
  }
  return inspectDigest(docker, repo, ref);
}

async function inspectDigest(docker: DockerCli, repo: string, ref: string): Promise<string> {
  const out = await docker.run(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref], {
    silent: true,
  });
  const digest = digestOf(JSON.parse(out.stdout.trim()) as string[], repo);
  if (!digest) throw new Error(`no registry digest recorded for ${ref} after the push`);
  return digest;
}
