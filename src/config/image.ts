import fs from 'node:fs';
import path from 'node:path';
import { previewTagPrefix } from '../naming.js';
import { ENV_NAME, type Inputs } from './inputs.js';
import type { ImageConfig, Mode, PullRequest } from './types.js';

const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The ECR repository: required, except for a teardown that deletes no images. */
export function readRepository(inputs: Inputs, required: boolean): string {
  const repository = required
    ? inputs.required('ecr-repository', 'the ECR repository name, e.g. docker-in-aws/todobackend')
    : inputs.get('ecr-repository');
  if (repository && !ECR_REPOSITORY.test(repository)) {
    inputs.problem(
      `ecr-repository "${repository}" is not a valid repository name (lower case letters, digits, . _ - and /; no registry host)`,
    );
  }
  return repository;
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
  if (mode === 'promote') {
    const refTag = /^refs\/tags\/(.+)$/.exec(ref ?? '')?.[1];
    const version = inputs.get('release-tag') || releaseTag || refTag || '';
    if (!version) {
      inputs.problem(
        'release-tag is required in mode promote outside a tag push or release event, e.g. v1.2.3',
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
  } else if (!given && mode !== 'teardown') {
    if (!isSha(sha))
      inputs.problem(`sha "${sha}" is not a commit SHA: set sha (default: github.sha) or image-tag`);
    else tag = preview ? `${previewTagPrefix(preview.number)}${shaTag}` : shaTag;
  }
  if (tag && !DOCKER_TAG.test(tag)) inputs.problem(`image-tag "${tag}" is not a valid Docker tag`);
  return { tag, sourceTag };
}

/** The image a rollout deploys and how it is built (deploy and preview build; promote never does). */
export function readImage(
  inputs: Inputs,
  mode: Mode,
  sha: string,
  preview: PullRequest | undefined,
  release: { releaseTag?: string; ref?: string },
): ImageConfig & { sourceTag?: string } {
  const { tag, sourceTag } = readTags(inputs, mode, sha, preview, release);
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

  const build = mode === 'deploy' || mode === 'preview' ? inputs.bool('build') : false;
  const context = inputs.get('context');
  const dockerfile = inputs.get('dockerfile') || undefined;
  if (build) {
    if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
      inputs.problem(`context "${context}" is not a directory: point it at the folder with your Dockerfile`);
    } else {
      const df = dockerfile ?? path.join(context, 'Dockerfile');
      if (!fs.existsSync(df)) inputs.problem(`dockerfile "${df}" does not exist: set dockerfile or context`);
    }
  }
  const buildArgs = inputs.lines('build-args');
  for (const a of buildArgs) {
    // A NAME alone would make docker take the value from the runner's environment.
    const eq = a.indexOf('=');
    if (eq <= 0 || !ENV_NAME.test(a.slice(0, eq)))
      inputs.problem(`build-args: "${a}" is not NAME=VALUE (one per line)`);
  }
  return {
    tag,
    sourceTag,
    extraTags,
    build,
    context,
    dockerfile,
    buildArgs,
    target: inputs.get('target') || undefined,
  };
}
