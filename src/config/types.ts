import type { HostKeyPin } from '../ssh/hostkey.js';

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

/** What a repository trusts its pull requests' stacks with beyond the preview policy (preview-allow). */
export interface PreviewAllowance {
  /** Host paths that may be bind-mounted, with what is beneath them (the Docker socket only by name). */
  bind: string[];
  /** Networks, volumes, secrets and configs outside the preview's namespace, by their Swarm name, each kind apart. */
  network: string[];
  volume: string[];
  secret: string[];
  config: string[];
  /** ECR repositories besides ecr-repository that the pull request's build: sections may push to. */
  repository: string[];
  /** Keys the policy leaves out: a service's (privileged), deploy.KEY, mount.TYPE, SECTION.KEY. */
  option: string[];
  /** Published ports besides the preview's own. */
  port: number[];
  /** Label names starting with these, which a proxy routes by (traefik.). */
  label: string[];
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

/** How an image is built: docker build of a context. */
export interface BuildSpec {
  context: string;
  dockerfile?: string;
  target?: string;
  /** NAME=VALUE */
  args: string[];
  /** Labels of its own (a build: section's); the OCI labels and the labels input are added to every image. */
  labels: Record<string, string>;
  /** Where it is given, for messages: the context input, or a service's build: section. */
  from: string;
}

/**
 * One of the run's own images: in the run's registry, under the run's tag (and extra tags), run by
 * services of the stack. Built from a stack service's build: section or from the inputs, or (build:
 * false, image, promote) only deployed.
 */
export interface Image {
  repository: string;
  /** How the run builds it; none when it does not build it. */
  build?: BuildSpec;
  /** The stack's services that run it. */
  services: string[];
}

/** The images a rollout deploys, and how the run gets them. */
export interface ImageConfig extends BuildOptions {
  /** The run's tag, plain (the version variable); every image the run deploys is pinned to its digest. */
  tag: string;
  extraTags: string[];
  /** false: deploy the images the tag names in ECR without building. */
  build: boolean;
  /**
   * How the inputs build ecr-repository's image (context, dockerfile, target, build-args), when the run
   * builds (ecr-repository, the run's first image, may be built by the stack's build: section instead).
   */
  inputBuild?: BuildSpec;
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
  /**
   * The stack files, in order (later ones override earlier ones): docker renders them into the one
   * document that is checked and deployed (see stack/).
   */
  stackFiles: string[];
  /** The checkout (GITHUB_WORKSPACE): a preview reads files from nowhere else. */
  workspace: string;
  /** The variable the stack file reads the image's tag from. */
  versionVariable: string;
  /** stack-env and env-file: the stack file's own variables (a bare NAME in stack-env taken from the step's environment). */
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
  allow: PreviewAllowance;
}

export interface PromoteConfig extends RolloutConfig {
  mode: 'promote';
  /** The tag of the image already built for the commit, given the release tag (tag) and extra tags. */
  sourceTag: string;
  /** Seconds to wait for the commit's deploy to push its images and pass. */
  promoteWait: number;
  /** Release the commit's images whether or not a deploy of them passed. */
  promoteUntested: boolean;
}

export interface TeardownConfig extends CommonConfig {
  mode: 'teardown';
  preview: PullRequest;
  /** Also delete the pull request's image tags from ECR. */
  deleteImages: boolean;
  /** The repositories besides ecr-repository that previews may push to (preview-allow repository:NAME). */
  grantedRepositories: string[];
}

/** The modes that roll a stack out. */
export type RolloutModeConfig = DeployConfig | PreviewConfig | PromoteConfig;

export type Config = RolloutModeConfig | TeardownConfig;
