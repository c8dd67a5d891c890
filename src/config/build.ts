import { previewTagPrefix } from '../naming.js';
import { emptySecretProblem, parseSecretLine, splitAssignment, type Inputs } from './inputs.js';
import type { BuildCache, BuildOptions, BuildSecret, PullRequest } from './types.js';

/** The moving tag, in the image's own repository, that the build cache lives under. */
const CACHE_TAG = 'buildcache';

/**
 * Each build is also pushed as the cache tag and the next build reuses its layers. A preview writes
 * a tag of its own pull request (its teardown deletes it; a pull request never overwrites
 * production's cache) and reads production's too.
 */
function readCache(inputs: Inputs, build: boolean, preview: PullRequest | undefined): BuildCache | undefined {
  const cache = inputs.bool('cache');
  if (!cache || !build) return undefined;
  if (!preview) return { tag: CACHE_TAG, from: [CACHE_TAG] };
  const own = `${previewTagPrefix(preview.number)}${CACHE_TAG}`;
  return { tag: own, from: [own, CACHE_TAG] };
}

const SECRET_ID = /^[A-Za-z0-9_.-]+$/;

/** ID=ENV_VARIABLE lines; the values are needed only when something is built. */
function readBuildSecrets(inputs: Inputs, env: NodeJS.ProcessEnv, build: boolean): BuildSecret[] {
  const secrets: BuildSecret[] = [];
  for (const line of inputs.lines('build-secrets')) {
    const parsed = parseSecretLine(line, SECRET_ID);
    if (!parsed) {
      inputs.problem(
        `build-secrets: "${line}" is not ID=ENV_VARIABLE (the id the Dockerfile mounts with RUN --mount=type=secret,id=ID, then the environment variable holding its value)`,
      );
      continue;
    }
    const { name: id, variable } = parsed;
    if (secrets.some((s) => s.id === id)) {
      inputs.problem(`build-secrets: ${id} is given twice; give each id once`);
      continue;
    }
    const value = env[variable] ?? '';
    if (!value && build) inputs.problem(emptySecretProblem('build-secrets', id, variable));
    secrets.push({ id, env: variable, value });
  }
  return secrets;
}

/** NAME=VALUE lines; a label's name may hold dots and slashes, its value anything. */
function readLabels(inputs: Inputs): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const line of inputs.lines('labels')) {
    const { name, value } = splitAssignment(line);
    if (value === undefined || !/^[^\s=]+$/.test(name)) {
      inputs.problem(`labels: "${line}" is not NAME=VALUE (one per line)`);
      continue;
    }
    labels[name] = value;
  }
  return labels;
}

/** The build's cache, secrets and labels (deploy and preview build; promote never does). */
export function readBuildOptions(
  inputs: Inputs,
  env: NodeJS.ProcessEnv,
  build: boolean,
  preview: PullRequest | undefined,
): BuildOptions {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository } = env;
  return {
    cache: readCache(inputs, build, preview),
    buildSecrets: readBuildSecrets(inputs, env, build),
    labels: readLabels(inputs),
    repositoryUrl: server && repository ? `${server}/${repository}` : undefined,
  };
}
