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

/** The image a rollout deploys, and how it is built. */
export interface ImageConfig {
  tag: string;
  extraTags: string[];
  build: boolean;
  context: string;
  dockerfile?: string;
  buildArgs: string[];
  target?: string;
}

/** What deploy, preview and promote share: a stack deploy, its waits, the tests, rollback. */
export interface RolloutConfig extends CommonConfig, ImageConfig {
  stackFile: string;
  /** The services the stack file defines. */
  stackServices: string[];
  versionVariable: string;
  stackEnv: Record<string, string>;
  stackSecrets: StackSecret[];
  oneShotServices: string[];
  oneShotTimeout: number;
  acceptance: boolean;
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
