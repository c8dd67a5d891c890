/**
 * The run's images built and pushed to ECR (docker build, then docker push), or an existing tag pulled
 * when the run builds nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { allowedEnvironment, type DockerCli } from '../runner/docker.js';
import { CommandError, run, shellQuote } from '../runner/exec.js';
import type { BuildOptions, BuildSecret, BuildSpec, Image } from '../config/index.js';
import { imageName } from '../naming.js';
import { detectBuilder } from './builder.js';

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

/** docker build arguments for a build's context, Dockerfile, build args, target, and the tags. */
export function buildArgs(spec: BuildSpec, refs: string[], extras: BuildExtras = {}): string[] {
  const args = ['build'];
  for (const ref of refs) args.push('--tag', ref);
  if (spec.dockerfile) args.push('--file', path.resolve(spec.context, spec.dockerfile));
  for (const a of spec.args) args.push('--build-arg', a);
  if (extras.inlineCache) args.push('--build-arg', 'BUILDKIT_INLINE_CACHE=1');
  for (const ref of extras.cacheFrom ?? []) args.push('--cache-from', ref);
  for (const [name, value] of Object.entries(extras.labels ?? {})) args.push('--label', `${name}=${value}`);
  for (const s of extras.secrets ?? []) args.push('--secret', `id=${s.id},src=${s.src}`);
  if (spec.target) args.push('--target', spec.target);
  args.push(spec.context);
  return args;
}

const OCI = 'org.opencontainers.image';

/** What every build of a run shares: where it goes, its tags, cache, secrets and labels. */
export interface BuildRun extends BuildOptions {
  registry: string;
  tag: string;
  extraTags: string[];
  sha: string;
  /** The checkout: where the commit's time is read. */
  workspace: string;
}

/** The OCI labels of a build (those the run knows), then a build: section's, then the labels input over them. */
export function imageLabels(
  build: BuildRun,
  spec: Pick<BuildSpec, 'labels'>,
  created: Date | undefined,
): Record<string, string> {
  return {
    ...(build.repositoryUrl ? { [`${OCI}.source`]: build.repositoryUrl } : {}),
    ...(build.sha ? { [`${OCI}.revision`]: build.sha } : {}),
    ...(created ? { [`${OCI}.created`]: created.toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
    [`${OCI}.version`]: build.tag,
    ...spec.labels,
    ...build.labels,
  };
}

/** The digest of `repo` among an image's RepoDigests ("repo@sha256:..."). */
export function digestOf(repoDigests: string[], repo: string): string | undefined {
  const match = repoDigests.find((d) => d.startsWith(`${repo}@`));
  return match?.slice(repo.length + 1);
}

/** An image the run built and pushed: its digest, how long its build took, and whether it reused a cached layer. */
export interface Built {
  repository: string;
  digest: string;
  seconds: number;
  cacheReused: boolean;
}

/** The build output's sign that a step came from the cache (BuildKit's, or the classic builder's). */
const CACHED_STEP = /^#\d+ CACHED$|^ ---> Using cache$/m;

/**
 * Builds every image, then pushes each under the run's tag and extra tags, and its build cache's tag
 * last; returns each image's digest. Nothing is pushed before every build has succeeded, so a build
 * that fails leaves no image of the run in the registry. The cache images are pulled first, for either
 * builder: the classic builder reuses only local images, and BuildKit, importing inline cache straight
 * from the registry, pushes cache metadata without the layers it reused, so that every other build on
 * an empty runner would start cold. concurrency: how many builds run at once (their output is then
 * shown whole as each one ends).
 */
export async function buildAndPush(
  docker: DockerCli,
  images: (Image & { build: BuildSpec })[],
  build: BuildRun,
  { concurrency = 1 }: { concurrency?: number } = {},
): Promise<Built[]> {
  const builder = await detectBuilder(docker, build.buildSecrets.length > 0);
  const created = await commitTime(build.workspace, build.sha);
  const secrets = writeSecrets(build.buildSecrets, path.dirname(docker.configDir));
  const refs = (image: Image) =>
    [build.tag, ...build.extraTags].map((tag) => imageName(build.registry, image.repository, tag));
  const cacheRef = (image: Image, tag: string) => imageName(build.registry, image.repository, tag);
  let built: Omit<Built, 'digest'>[];
  try {
    built = await inBatches(images, concurrency, async (image) => {
      const started = Date.now();
      const cacheTo = build.cache ? [cacheRef(image, build.cache.tag)] : [];
      const extras: BuildExtras = {
        inlineCache: builder.buildKit && cacheTo.length > 0,
        cacheFrom: await pullCache(
          docker,
          (build.cache?.from ?? []).map((tag) => cacheRef(image, tag)),
        ),
        labels: imageLabels(build, image.build, created),
        secrets: secrets.files,
      };
      const args = buildArgs(image.build, [...refs(image), ...cacheTo], extras);
      // Builds at once would interleave their lines: each one's output is shown whole as it ends.
      const buffered = concurrency > 1 && images.length > 1;
      const result = await docker.run(args, { silent: buffered }, true);
      const output = result.stdout + result.stderr;
      if (buffered) core.info(`[command]docker ${args.map(shellQuote).join(' ')}\n${output}`);
      if (result.exitCode !== 0) throw new CommandError(`docker build of ${image.repository}`, result);
      return {
        repository: image.repository,
        seconds: (Date.now() - started) / 1000,
        cacheReused: CACHED_STEP.test(output),
      };
    });
  } finally {
    secrets.remove();
  }
  const digests: Built[] = [];
  for (const [i, image] of images.entries()) {
    for (const ref of refs(image)) await docker.run(['push', ref]);
    if (build.cache) await pushCache(docker, cacheRef(image, build.cache.tag));
    const digest = await inspectDigest(docker, `${build.registry}/${image.repository}`, refs(image)[0]);
    digests.push({ ...built[i], digest });
  }
  return digests;
}

/**
 * fn over items, at most limit at a time; the results in the items' order. A failure is thrown once
 * every call of its batch has ended (none is left running).
 */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    const settled = await Promise.allSettled(items.slice(i, i + limit).map(fn));
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      results.push(s.value);
    }
  }
  return results;
}

/**
 * When the checked-out commit (sha, else HEAD) was made: the images' created label. Not the build's own
 * time, so that building the same commit again gives the same image (and a re-run starts no rolling
 * update). Asked of the checkout's own repository, named outright: a folder a pull request chose (a
 * build context) may hold files shaped like a repository whose config has git run programs.
 */
export async function commitTime(workspace: string, sha: string): Promise<Date | undefined> {
  const git = [
    `--git-dir=${path.join(workspace, '.git')}`,
    '-c',
    'log.showSignature=false',
    'log',
    '-1',
    '--format=%cI',
    sha || 'HEAD',
    '--',
  ];
  const out = await run('git', git, { silent: true, env: allowedEnvironment() }, true).catch(() => undefined);
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
