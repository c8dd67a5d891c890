import type { HostKeyPin } from '../ssh/hostkey.js';

/** deploy: the pipeline; preview: a stack per pull request; teardown: remove a preview; promote: release a tested image. */
export type Mode = 'deploy' | 'preview' | 'teardown' | 'promote';
export const MODES: readonly Mode[] = ['deploy', 'preview', 'teardown', 'promote'];

export interface SshConfig {
  /** The managers, in the order they are tried; each host key pinned. */
  managers: { host: string; hostKey: HostKeyPin }[];
  port: number;
  user: string;
  privateKey: string;
  passphrase?: string;
  remoteSocket: string;
  /** A bastion the manager is reached through (same key), its host key pinned too. */
  jump?: { host: string; port: number; user: string; hostKey: HostKeyPin };
  /** Seconds to keep trying to re-establish a dropped connection. */
  reconnectTimeout: number;
}

/** A Swarm secret the action keeps for the stack: its name in the stack file and the variable holding its value. */
export interface StackSecret {
  name: string;
  env: string;
  value: string;
}

/** The pull request a preview or teardown is for, and the port a preview's stack publishes on. */
export interface PullRequest {
  number: number;
  port: number;
}

/** What every mode has. */
export interface CommonConfig {
  /** The commit deployed (a pull request's head commit in preview mode); may be empty for teardown. */
  sha: string;
  awsRegion?: string;
  /** The AWS account whose registry holds the repository (a shared tools account); the caller's own when unset. */
  registryId?: string;
  repository: string;
  ssh: SshConfig;
  stackName: string;
  convergeTimeout: number;
  lockTimeout: number;
  /** For GitHub Deployments and the pull request comment (preview and teardown); empty turns them off. */
  githubToken: string;
  /** The app's URL ({stack}, {pr}, {port} filled in); empty when not given. */
  appUrl: string;
}

/** The build cache: the tag each build is also pushed as, and the tags a build may reuse layers from. */
export interface BuildCache {
  tag: string;
  from: string[];
}

/** A BuildKit secret: the id the Dockerfile mounts, and the step's variable that holds its value. */
export interface BuildSecret {
  id: string;
  env: string;
  value: string;
}

/** How the image is built besides what docker build is pointed at: cache, secrets, labels. */
export interface BuildOptions {
  /** None when cache is off or nothing is built. */
  cache?: BuildCache;
  buildSecrets: BuildSecret[];
  /** The user's labels, set over the OCI ones. */
  labels: Record<string, string>;
  /** The repository's web address, for the org.opencontainers.image.source label. */
  repositoryUrl?: string;
}

/** The image a rollout deploys, and how it is built. */
export interface ImageConfig extends BuildOptions {
  tag: string;
  extraTags: string[];
  build: boolean;
  context: string;
  dockerfile?: string;
  buildArgs: string[];
  target?: string;
  /** The image input: an image built elsewhere, deployed without a build (then build is false). */
  prebuilt?: PrebuiltImage;
}

/** Where the image input says the image is: its registry host, and its digest when it names one. */
export interface PrebuiltImage {
  registry: string;
  digest?: string;
}

/** What deploy, preview and promote share: a stack deploy, its waits, the tests, rollback. */
export interface RolloutConfig extends CommonConfig, ImageConfig {
  /** docker stack deploy's -c files, in order: later ones override earlier ones. */
  stackFiles: string[];
  /** The services the stack files define. */
  stackServices: string[];
  /** Their compose file version, when they give one. */
  composeVersion?: string;
  /** Every service image of the stack files names a digest (see readStackFile). */
  everyImagePinned: boolean;
  versionVariable: string;
  stackEnv: Record<string, string>;
  stackSecrets: StackSecret[];
  oneShotServices: string[];
  /**
   * Deploy the one-shot services alone first, and the rest only once they completed (the stack's
   * first deploy, with nothing running yet to keep, is deployed at once).
   */
  oneShotsFirst: boolean;
  oneShotTimeout: number;
  acceptance: boolean;
  /** The image the tests run in; the deployed image when unset. */
  acceptanceImage?: string;
  /** docker run --entrypoint of the test container; the image's own when unset. */
  acceptanceEntrypoint?: string;
  acceptanceCommand: string[];
  acceptanceArgs: string[];
  acceptanceTimeout: number;
  rollbackOnFailure: boolean;
  /** docker stack deploy --prune: remove the stack's services the stack file no longer has. */
  prune: boolean;
}

export interface DeployConfig extends RolloutConfig {
  mode: 'deploy';
}

export interface PreviewConfig extends RolloutConfig {
  mode: 'preview';
  preview: PullRequest;
}

export interface PromoteConfig extends RolloutConfig {
  mode: 'promote';
  /** The tag of the image already built for the commit, given the release tag (tag) and extra tags. */
  sourceTag: string;
}

export interface TeardownConfig extends CommonConfig {
  mode: 'teardown';
  preview: PullRequest;
  /** Also delete the pull request's image tags from ECR. */
  deleteImages: boolean;
}

export type Config = DeployConfig | PreviewConfig | PromoteConfig | TeardownConfig;
