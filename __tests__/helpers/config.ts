import { expect } from '@jest/globals';
import {
  InputError,
  readConfig as readAnyConfig,
  type Mode,
  type PreviewConfig,
  type PromoteConfig,
  type TeardownConfig,
} from '../../src/config/index.js';
import { STACK_YML, userStep } from './step.js';

/** The commit the runner names in GITHUB_SHA. */
export const SHA = '0123456789abcdef0123456789abcdef01234567';

/** Every mode's fields at once, for assertions (each test knows its mode). */
export type AnyConfig = Omit<PreviewConfig, 'mode'> &
  Omit<PromoteConfig, 'mode'> &
  Omit<TeardownConfig, 'mode'> & { mode: Mode };

/** readConfig, its Config seen as AnyConfig. */
export const readConfig = (...args: Parameters<typeof readAnyConfig>): AnyConfig =>
  readAnyConfig(...args) as AnyConfig;

export interface ConfigStep {
  /** The step's workspace: its stack file (an app, migrate and collectstatic) and a Dockerfile. */
  readonly dir: string;
  /** The inputs every mode needs, for todobackend's stack and repository. */
  readonly inputs: Record<string, string>;
  /** readConfig of the inputs with overrides, in the step's environment (GITHUB_SHA by default). */
  read(
    overrides?: Record<string, string>,
    env?: NodeJS.ProcessEnv,
    event?: Record<string, unknown>,
  ): AnyConfig;
  /** The problems readConfig throws in its InputError (and fails the test if it throws none). */
  problems(overrides: Record<string, string>, env?: NodeJS.ProcessEnv): string[];
}

/**
 * A user's step for the config tests (see userStep), made on first use: each test file that reads
 * inputs gets a workspace of its own.
 */
export function configStep(prefix: string): ConfigStep {
  let made: { dir: string; inputs: Record<string, string> } | undefined;
  const step = () => {
    if (made) return made;
    const collectstatic =
      '  collectstatic:\n    image: x\n    deploy:\n      restart_policy:\n        condition: none\n';
    const user = userStep(prefix, { stack: STACK_YML + collectstatic });
    made = {
      dir: user.dir,
      inputs: { ...user.inputs, 'ecr-repository': 'docker-in-aws/todobackend', 'stack-name': 'todobackend' },
    };
    return made;
  };
  const read: ConfigStep['read'] = (overrides = {}, env = { GITHUB_SHA: SHA }, event = {}) =>
    readConfig(
      (name) => ({ ...step().inputs, ...overrides })[name] ?? '',
      { GITHUB_WORKSPACE: step().dir, ...env },
      event,
    );
  const problems: ConfigStep['problems'] = (overrides, env) => {
    try {
      read(overrides, env);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as InputError).problems;
    }
    throw new Error('expected an InputError');
  };
  return {
    get dir() {
      return step().dir;
    },
    get inputs() {
      return step().inputs;
    },
    read,
    problems,
  };
}
