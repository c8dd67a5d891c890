import { createHash, createHmac } from 'node:crypto';

/** Every name the action derives or recognises: one home for each naming rule. */

/** What the action's own objects and files are called after. */
const PREFIX = 'ecr-swarm-deploy';

/** The label docker stack deploy gives every object of a stack. */
export const STACK_LABEL = 'com.docker.stack.namespace';

/** Engine API filters for the objects of a stack. */
export function stackFilter(stack: string): { label: string[] } {
  return { label: [`${STACK_LABEL}=${stack}`] };
}

/** A stack's service as Swarm names it. */
export function stackServiceName(stack: string, service: string): string {
  return `${stack}_${service}`;
}

/** A pull request's preview stack. */
export function previewStackName(base: string, pr: number): string {
  return `${base}-pr-${pr}`;
}

/** The start of a preview's image tags: a teardown deletes only that pull request's images. */
export function previewTagPrefix(pr: number): string {
  return `pr-${pr}-`;
}

/** Labels on the Swarm objects the action makes (its secrets, its lock). */
export const LABELS = {
  secretStack: `com.github.${PREFIX}.stack`,
  secretName: `com.github.${PREFIX}.secret`,
  lockOwner: `com.github.${PREFIX}.owner`,
  lockHold: `com.github.${PREFIX}.hold`,
  lockRenewals: `com.github.${PREFIX}.renewals`,
  /** The expiry (runner's clock) that earlier versions of the action judge a lock by. */
  lockExpires: `com.github.${PREFIX}.expires`,
  /** On every service deployed: who deployed what, from where. */
  deployCommit: `com.github.${PREFIX}.commit`,
  deployImage: `com.github.${PREFIX}.image`,
  deployRun: `com.github.${PREFIX}.run`,
  deployActor: `com.github.${PREFIX}.actor`,
} as const;

/** The workflow run's page, when the runner says which run this is. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.GITHUB_RUN_ID) return undefined;
  const repo = env.GITHUB_REPOSITORY ?? 'unknown/repository';
  return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`;
}

/**
 * The name lengths Swarm's manager accepts (swarmkit, manager/controlapi/common.go). A config or a
 * secret may have 64 characters (validateConfigOrSecretAnnotations): the deploy lock and the versioned
 * stack secrets are checked against this.
 */
export const SWARM_NAME_MAX = 64;

/**
 * A service or a network is named as a DNS label, so it may have 63 characters (validateAnnotations):
 * stack-name and every STACK_SERVICE name are checked against this.
 */
export const SERVICE_NAME_MAX = 63;

/** The deploy lock of a stack: a Swarm config; a stack name too long for one is hashed. */
export function lockName(stack: string): string {
  const name = `${PREFIX}-lock.${stack}`;
  return name.length <= SWARM_NAME_MAX
    ? name
    : `${PREFIX}-lock.${createHash('sha256').update(stack).digest('hex').slice(0, 32)}`;
}

/** An image's reference: REGISTRY/REPOSITORY:TAG. */
export function imageName(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

/** The repository of reference when it is imageName of this registry and tag; undefined otherwise. */
export function imageRepository(reference: string, registry: string, tag: string): string | undefined {
  const repository = reference.slice(`${registry}/`.length, -`:${tag}`.length);
  return imageName(registry, repository, tag) === reference ? repository : undefined;
}

/** An image digest as registries and docker write it (a regular expression's source). */
export const DIGEST = 'sha256:[0-9a-f]{64}';

/** Whether reference ends with @DIGEST: it names its image by digest, as a pinned reference does. */
export const namesDigest = (reference: string): boolean => new RegExp(`@${DIGEST}$`).test(reference);

/** What a deploy of a commit's images can fail at: its one-shot services, its rollout, its tests. */
export type DeployFailure = 'one-shots' | 'rollout' | 'tests';
export const DEPLOY_FAILURES: readonly DeployFailure[] = ['one-shots', 'rollout', 'tests'];

/**
 * The tags a deploy gives an image of tag to record its outcome, for promote to release only what
 * passed: passed-TAG once its one-shots, rollout and tests passed; failed-WHAT-TAG when one failed.
 */
export const passedTag = (tag: string): string => `passed-${tag}`;
export const failedTag = (tag: string, what: DeployFailure): string => `failed-${what}-${tag}`;

/** The private work directories under RUNNER_TEMP start with this. */
export const WORK_DIR_PREFIX = `${PREFIX}-`;

/** The acceptance test container of a run. */
export function acceptanceContainerName(suffix: string): string {
  return `${PREFIX}-acceptance-${suffix}`;
}

/** Marks the action's own comment on a pull request, so it is updated instead of posted again. */
export function commentMarker(stack: string): string {
  return `<!-- ${PREFIX} preview ${stack} -->`;
}

/** The stack file variable that carries a secret's Swarm name: secret_key -> SECRET_KEY_SECRET. */
export function secretVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SECRET`;
}

/**
 * Swarm secrets cannot change, so each value gets a name of its own. The version is keyed with the
 * deploy key rather than a plain hash of the value: secret names appear in public logs, and a bare
 * hash of a short password could be guessed offline.
 */
export function versionedSecretName(
  stack: string,
  secret: { name: string; value: string },
  key: string,
): string {
  const version = createHmac('sha256', key)
    .update(`${stack}\0${secret.name}\0${secret.value}`)
    .digest('hex')
    .slice(0, 12);
  return `${stack}_${secret.name}_${version}`;
}

/** The stack file variables that name the current version of each secret (SECRET_KEY_SECRET=...). */
export function secretVariables(
  stack: string,
  secrets: { name: string; value: string }[],
  key: string,
): Record<string, string> {
  return Object.fromEntries(secrets.map((s) => [secretVariable(s.name), versionedSecretName(stack, s, key)]));
}
