/**
 * The image inputs, read and checked: the ECR repository and its registry, an image built elsewhere,
 * the tags, and how the inputs build the image.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DIGEST, previewTagPrefix } from '../naming.js';
import { ENV_NAME, type Inputs } from './inputs.js';
import { MODES, modesThat, type Mode } from './modes.js';
import type { BuildOptions, BuildSpec, ImageConfig, PullRequest } from './types.js';

const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DOCKER_TAG = new RegExp(`^${TAG}$`);
/** Inputs that only steer a build: they have no default, so one given with image is a mistake to name. */
const BUILD_ONLY_INPUTS = ['dockerfile', 'build-args', 'target', 'extra-tags', 'build-secrets', 'labels'];
// An image reference as docker parses it: [HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST].
const HOST = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  String.raw`^(?:(${HOST})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/**
 * An image reference split as docker reads it, or undefined when docker would refuse it. host is the
 * first component whenever it can be one; isRegistryHost tells whether docker takes it for a registry.
 */
export function parseImageReference(
  reference: string,
): { host?: string; path: string; tag?: string; digest?: string } | undefined {
  const m = IMAGE_REFERENCE.exec(reference);
  return m ? { host: m[1], path: m[2], tag: m[3], digest: m[4] } : undefined;
}

/** An ECR repository name (no registry host). */
export const isEcrRepository = (name: string): boolean => ECR_REPOSITORY.test(name);

/** As docker tells a registry from a repository's first component: a dot, a port, or localhost. */
const isRegistryHost = (host: string) =>
  /^[a-z0-9.-]+(:\d+)?$/i.test(host) && (/[.:]/.test(host) || host === 'localhost');

/**
 * The ECR repository: required, except for a teardown that deletes no images and for image, which
 * names it (ecr-repository may name it too).
 */
export function readRepository(inputs: Inputs, required: boolean, fromImage?: string): string {
  const repository = required
    ? inputs.required('ecr-repository', 'the ECR repository name, e.g. docker-in-aws/todobackend')
    : inputs.get('ecr-repository');
  if (repository && !ECR_REPOSITORY.test(repository)) {
    inputs.problem(
      `ecr-repository "${repository}" is not a valid repository name (lower case letters, digits, . _ - and /; no registry host)`,
    );
  } else if (repository && fromImage && repository !== fromImage) {
    inputs.problem(
      `ecr-repository "${repository}" is not the repository image names (${fromImage}): remove ecr-repository, image names it`,
    );
  }
  return repository || fromImage || '';
}

/** registry-id: the AWS account whose registry holds the repository; empty for the caller's own. */
export function readRegistryId(inputs: Inputs): string | undefined {
  const id = inputs.get('registry-id');
  if (id && !/^\d{12}$/.test(id))
    inputs.problem(
      `registry-id "${id}" is not an AWS account id (12 digits, e.g. 123456789012): set it to the account that owns the registry, or leave it empty for your own`,
    );
  return id || undefined;
}

/**
 * image: an image built elsewhere (e.g. by docker/build-push-action), deployed without a build. Its
 * repository is the deploy's; build and context have defaults, so they are ignored, not refused.
 */
function readPrebuilt(inputs: Inputs, mode: Mode) {
  const reference = inputs.get('image');
  if (!reference) return undefined;
  if (!MODES[mode].builds) {
    inputs.problem(
      `image only applies to the modes that build (${modesThat('builds').join(', ')}), in place of their build: remove it`,
    );
    return undefined;
  }
  const { host: registry = '', path: repository = '', tag, digest } = parseImageReference(reference) ?? {};
  if (!isRegistryHost(registry) || !ECR_REPOSITORY.test(repository) || (!tag && !digest)) {
    inputs.problem(
      `image "${reference}" is not REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST or REGISTRY/REPOSITORY:TAG@sha256:DIGEST (the registry host first, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:abc1234)`,
    );
    return undefined;
  }
  for (const name of BUILD_ONLY_INPUTS)
    if (inputs.get(name))
      inputs.problem(
        `${name} is for a build, and with image nothing is built: remove ${name} (give it to the build that made the image)`,
      );
  if (tag && inputs.get('image-tag'))
    inputs.problem(`image-tag: image names its tag (${tag}) already; remove image-tag`);
  return { registry, repository, tag, digest };
}

/** The commit: sha, else a preview's head commit (not the merge commit GitHub checks out), else github.sha. */
export function readSha(inputs: Inputs, env: NodeJS.ProcessEnv, previewHead: string | undefined): string {
  return inputs.get('sha') || previewHead || env.GITHUB_SHA || '';
}

export const isSha = (sha: string) => /^[0-9a-f]{7,40}$/.test(sha);

/**
 * The image tag and where it comes from. deploy: the SHA (or image-tag); preview: pr-N-SHA, so a
 * teardown deletes only that pull request's images; promote: the release tag, from the SHA's image.
 */
function readTags(
  inputs: Inputs,
  mode: Mode,
  sha: string,
  preview: PullRequest | undefined,
  { releaseTag, ref }: { releaseTag?: string; ref?: string },
): { tag: string; sourceTag?: string } {
  const tagFormat = inputs.get('tag-format');
  if (!['short', 'full'].includes(tagFormat))
    inputs.problem(`tag-format must be short or full, not "${tagFormat}"`);
  const shaTag = tagFormat === 'full' ? sha : sha.slice(0, 7);
  const given = inputs.get('image-tag');
  let tag = given;
  let sourceTag: string | undefined;
  if (MODES[mode].releases) {
    const refTag = /^refs\/tags\/(.+)$/.exec(ref ?? '')?.[1];
    const version = inputs.get('release-tag') || releaseTag || refTag || '';
    if (!version) {
      inputs.problem(
        `release-tag is required in mode ${mode} outside a tag push or release event, e.g. v1.2.3`,
      );
    } else if (!DOCKER_TAG.test(version)) {
      inputs.problem(`release-tag "${version}" is not a valid Docker tag`);
    }
    sourceTag = given || shaTag;
    if (!given && !isSha(sha))
      inputs.problem(
        `sha "${sha}" is not a commit SHA: set sha to the commit whose image to promote, or image-tag`,
      );
    tag = version;
  } else if (!given) {
    if (!isSha(sha))
      inputs.problem(`sha "${sha}" is not a commit SHA: set sha (default: github.sha) or image-tag`);
    else tag = preview ? `${previewTagPrefix(preview.number)}${shaTag}` : shaTag;
  }
  if (tag && !DOCKER_TAG.test(tag)) inputs.problem(`image-tag "${tag}" is not a valid Docker tag`);
  return { tag, sourceTag };
}

/**
 * The image a rollout deploys and how it is built (deploy and preview build, unless image names one
 * built elsewhere; promote never does). A digest alone in image takes the tag the action would give
 * its own build of the commit.
 */
export function readImage(
  inputs: Inputs,
  mode: Mode,
  sha: string,
  preview: PullRequest | undefined,
  release: { releaseTag?: string; ref?: string },
): Omit<ImageConfig, keyof BuildOptions> & { repository: string; sourceTag?: string } {
  const prebuilt = readPrebuilt(inputs, mode);
  const repository = readRepository(inputs, !inputs.get('image'), prebuilt?.repository);
  const { tag, sourceTag } = prebuilt?.tag
    ? { tag: prebuilt.tag, sourceTag: undefined }
    : readTags(inputs, mode, sha, preview, release);
  const extraTags = inputs.list('extra-tags');
  for (const t of extraTags)
    if (!DOCKER_TAG.test(t)) inputs.problem(`extra-tags: "${t}" is not a valid Docker tag`);
  // A preview's tags carry its pull request's prefix: its teardown deletes them, and they cannot
  // overwrite a tag production or another pull request uses.
  if (preview) {
    const prefix = previewTagPrefix(preview.number);
    const given = [inputs.get('image-tag'), ...extraTags].filter((t) => t && !t.startsWith(prefix));
    for (const t of given)
      inputs.problem(
        `image-tag or extra-tags "${t}" must start with ${prefix} in mode preview (e.g. ${prefix}${t})`,
      );
  }

  const build = MODES[mode].builds && !inputs.get('image') ? inputs.bool('build') : false;
  const args = inputs.lines('build-args');
  for (const a of args) {
    // A NAME alone would make docker take the value from the runner's environment.
    const eq = a.indexOf('=');
    if (eq <= 0 || !ENV_NAME.test(a.slice(0, eq)))
      inputs.problem(`build-args: "${a}" is not NAME=VALUE (one per line)`);
  }
  const inputBuild = {
    context: inputs.get('context'),
    dockerfile: inputs.get('dockerfile') || undefined,
    target: inputs.get('target') || undefined,
    args,
    labels: {},
    from: 'the context input',
  };
  return {
    repository,
    tag,
    sourceTag,
    extraTags,
    build,
    // Its context and Dockerfile are checked once the stack says whether a build: section builds it.
    ...(build ? { inputBuild } : {}),
    ...(prebuilt ? { prebuilt: { registry: prebuilt.registry, digest: prebuilt.digest } } : {}),
  };
}

/** A build's problems on the runner: its context is a folder, its Dockerfile is there (checked after the stack is read). */
export function buildSpecProblems(spec: BuildSpec): string[] {
  const { context, dockerfile } = spec;
  if (!fs.existsSync(context) || !fs.statSync(context).isDirectory())
    return [
      `${spec.from}: context "${context}" is not a directory: point it at the folder with the Dockerfile`,
    ];
  const df = dockerfile ? path.resolve(context, dockerfile) : path.join(context, 'Dockerfile');
  return fs.existsSync(df)
    ? []
    : [`${spec.from}: dockerfile "${df}" does not exist: set dockerfile or context`];
}
