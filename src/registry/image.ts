import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import type { DockerCli } from '../runner/docker.js';
import { run } from '../runner/exec.js';
import type { BuildSecret, ImageConfig } from '../config/index.js';
import { detectBuilder } from './builder.js';

export function imageName(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

/** What a build adds to the configured one: its cache, its labels, its secrets' files. */
export interface BuildExtras {
  /** BuildKit writes its cache metadata into the image, for the next build to import. */
  inlineCache?: boolean;
  /** Images whose layers the build may reuse. */
  cacheFrom?: string[];
  labels?: Record<string, string>;
  /** Each secret's id and the private file (0600) that holds its value. */
  secrets?: { id: string; src: string }[];
}

/** docker build arguments for the configured context, Dockerfile, build args, target and tags. */
export function buildArgs(config: ImageConfig, refs: string[], extras: BuildExtras = {}): string[] {
  const args = ['build'];
  for (const ref of refs) args.push('--tag', ref);
  if (config.dockerfile) args.push('--file', config.dockerfile);
  for (const a of config.buildArgs) args.push('--build-arg', a);
  if (extras.inlineCache) args.push('--build-arg', 'BUILDKIT_INLINE_CACHE=1');
  for (const ref of extras.cacheFrom ?? []) args.push('--cache-from', ref);
  for (const [name, value] of Object.entries(extras.labels ?? {})) args.push('--label', `${name}=${value}`);
  for (const s of extras.secrets ?? []) args.push('--secret', `id=${s.id},src=${s.src}`);
  if (config.target) args.push('--target', config.target);
  args.push(config.context);
  return args;
}

const OCI = 'org.opencontainers.image';

/** The OCI labels of a build (those the run knows), then the user's labels over them. */
export function imageLabels(
  config: ImageConfig & { tag: string; sha: string },
  created: Date | undefined,
): Record<string, string> {
  return {
    ...(config.repositoryUrl ? { [`${OCI}.source`]: config.repositoryUrl } : {}),
    ...(config.sha ? { [`${OCI}.revision`]: config.sha } : {}),
    ...(created ? { [`${OCI}.created`]: created.toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
    [`${OCI}.version`]: config.tag,
    ...config.labels,
  };
}

/** The digest of `repo` among an image's RepoDigests ("repo@sha256:..."). */
export function digestOf(repoDigests: string[], repo: string): string | undefined {
  const match = repoDigests.find((d) => d.startsWith(`${repo}@`));
  return match?.slice(repo.length + 1);
}

/**
 * Builds and pushes every tag, and the build cache's tag last; returns the pushed digest. The cache
 * images are pulled first, for either builder: the classic builder reuses only local images, and
 * BuildKit, importing inline cache straight from the registry, pushes cache metadata without the
 * layers it reused, so that every other build on an empty runner would start cold.
 */
export async function buildAndPush(
  docker: DockerCli,
  config: ImageConfig & { sha: string },
  repo: string,
  refs: string[],
): Promise<string> {
  const builder = await detectBuilder(docker, config.buildSecrets.length > 0);
  const cacheRefs = (config.cache?.from ?? []).map((tag) => `${repo}:${tag}`);
  const cacheTo = config.cache ? [`${repo}:${config.cache.tag}`] : [];
  const secrets = writeSecrets(config.buildSecrets, path.dirname(docker.configDir));
  try {
    const extras: BuildExtras = {
      inlineCache: builder.buildKit && cacheTo.length > 0,
      cacheFrom: await pullCache(docker, cacheRefs),
      labels: imageLabels(config, await commitTime(config.context)),
      secrets: secrets.files,
    };
    await docker.run(buildArgs(config, [...refs, ...cacheTo], extras), { env: builder.env });
  } finally {
    secrets.remove();
  }
  for (const ref of refs) await docker.run(['push', ref]);
  for (const ref of cacheTo) await pushCache(docker, ref);
  return inspectDigest(docker, repo, refs[0]);
}

/**
 * When the checked-out commit was made: the image's created label. Not the build's own time, so that
 * building the same commit again gives the same image (and a re-run starts no rolling update).
 * Undefined outside a git checkout.
 */
export async function commitTime(context: string): Promise<Date | undefined> {
  const out = await run('git', ['-C', context, 'log', '-1', '--format=%cI'], { silent: true }, true).catch(
    () => undefined,
  );
  const time = out?.exitCode === 0 ? new Date(out.stdout.trim()) : undefined;
  return time && !Number.isNaN(time.getTime()) ? time : undefined;
}

/**
 * Each secret's value (masked from the start of the run, with the step's other secrets) in a file of its own (0600, in a 0700 directory of the run's private
 * work directory) for the build to mount: never an argument, never in a child's environment.
 */
function writeSecrets(
  secrets: BuildSecret[],
  workRoot: string,
): { files: { id: string; src: string }[]; remove(): void } {
  if (secrets.length === 0) return { files: [], remove: () => undefined };
  const dir = fs.mkdtempSync(path.join(workRoot, 'build-secrets-'));
  fs.chmodSync(dir, 0o700);
  const files = secrets.map((s, i) => {
    const src = path.join(dir, String(i));
    fs.writeFileSync(src, s.value, { mode: 0o600, flag: 'wx' });
    return { id: s.id, src };
  });
  return { files, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The cache images a build can use: those pulled now (there is none before the first build). */
async function pullCache(docker: DockerCli, refs: string[]): Promise<string[]> {
  const pulled: string[] = [];
  for (const ref of refs) {
    const started = Date.now();
    const r = await docker.run(['pull', ref], { silent: true }, true);
    const reason = (r.stderr.trim() || r.stdout.trim()).split('\n').at(-1);
    if (r.exitCode === 0) {
      core.info(`Build cache: pulled ${ref} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      pulled.push(ref);
    } else core.info(`Build cache: no build cache from ${ref} (${reason})`);
  }
  return pulled;
}

/** A cache tag the registry refuses (an immutable tag, say) costs the next build its cache, not this deploy. */
async function pushCache(docker: DockerCli, ref: string): Promise<void> {
  const r = await docker.run(['push', ref], {}, true);
  if (r.exitCode === 0) return;
  const reason = (r.stderr.trim() || r.stdout.trim()).split('\n').at(-1);
  core.warning(
    `cache: the build cache could not be pushed to ${ref} (${reason}); the next build starts cold. A repository with immutable tags needs the tag excluded from immutability, or cache: false`,
  );
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
