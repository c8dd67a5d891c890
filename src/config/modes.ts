import type { Config, PreviewConfig, RolloutModeConfig, TeardownConfig } from './types.js';

/** What a mode does, as the rest of the action asks it. */
export interface ModeTraits {
  /** Renders the stack files and deploys them, then waits, tests and rolls back; false: removes a stack. */
  rollsOut: boolean;
  /** Runs for a pull request (pr-number, or the event's): reports to it with a Deployment and a comment. */
  forPullRequest: boolean;
  /**
   * Deploys a pull request's own stack: held to the preview policy (preview-allow), reading files only
   * from the checkout, published on the pull request's port, its image tags prefixed with its number.
   */
  deploysPullRequest: boolean;
  /** Builds the images, or deploys one built elsewhere (image); otherwise deploys images ECR holds. */
  builds: boolean;
  /** Releases a commit's tested images under a release tag (release-tag, promote-wait, promote-untested). */
  releases: boolean;
  /** Records on the deployed images whether the deploy passed, for a release to check later. */
  recordsOutcome: boolean;
}

/**
 * Every mode and what it does. A new mode is a row here, its Config type (types.ts), its module in
 * modes/ and its case in main.ts's runMode; every other place asks these traits, not the mode's name.
 */
export const MODES = {
  /** The pipeline: build, push, deploy, wait, test; the outcome recorded for promote. */
  deploy: {
    rollsOut: true,
    forPullRequest: false,
    deploysPullRequest: false,
    builds: true,
    releases: false,
    recordsOutcome: true,
  },
  /** A stack of its own for a pull request. */
  preview: {
    rollsOut: true,
    forPullRequest: true,
    deploysPullRequest: true,
    builds: true,
    releases: false,
    recordsOutcome: false,
  },
  /** A pull request's preview removed. */
  teardown: {
    rollsOut: false,
    forPullRequest: true,
    deploysPullRequest: false,
    builds: false,
    releases: false,
    recordsOutcome: false,
  },
  /** A tested commit's images released under a release tag, and deployed. */
  promote: {
    rollsOut: true,
    forPullRequest: false,
    deploysPullRequest: false,
    builds: false,
    releases: true,
    recordsOutcome: false,
  },
} as const satisfies Record<string, ModeTraits>;

export type Mode = keyof typeof MODES;

export const MODE_NAMES = Object.keys(MODES) as Mode[];

export const isMode = (name: string): name is Mode => Object.hasOwn(MODES, name);

/** The modes that have a trait (or, with false, lack it), for messages. */
export const modesThat = (trait: keyof ModeTraits, has = true): Mode[] =>
  MODE_NAMES.filter((m) => MODES[m][trait] === has);

/** The problem of an input given to a mode that lacks the trait it belongs to (with has false: that has it). */
export const onlyFor = (input: string, trait: keyof ModeTraits, has = true): string =>
  `${input} only applies to mode: ${modesThat(trait, has).join(', ')}; remove it`;

/** A mode that deploys a stack: its Config has the stack's inputs. */
export const rollsOut = (config: Config): config is RolloutModeConfig => MODES[config.mode].rollsOut;

/** A mode run for a pull request: its Config names it (preview). */
export const forPullRequest = (config: Config): config is PreviewConfig | TeardownConfig =>
  MODES[config.mode].forPullRequest;

/** A mode that deploys a pull request's own stack: its Config has what the repository allows it. */
export const deploysPullRequest = (config: Config): config is PreviewConfig =>
  MODES[config.mode].deploysPullRequest;
