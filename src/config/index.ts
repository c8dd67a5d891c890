import { readAcceptance, readAppUrl, readTestContainer } from './acceptance.js';
import { readBuildOptions } from './build.js';
import { readImage, readRegistryId, readRepository, readSha, isSha } from './image-inputs.js';
import { InputError, Inputs, type InputReader } from './inputs.js';
import { readPullRequest, type PullRequestEvent } from './pull-request.js';
import { readSsh } from './ssh.js';
import {
  checkStackEnv,
  readPreviewAllowance,
  readStackFileInputs,
  readStackName,
  readStackSecrets,
} from './stack.js';
import { isMode, MODE_NAMES, MODES, onlyFor, type Mode } from './modes.js';
import type { Config } from './types.js';

export { InputError, splitArgs, type InputReader } from './inputs.js';
export type * from './types.js';
export {
  deploysPullRequest,
  forPullRequest,
  MODE_NAMES,
  MODES,
  rollsOut,
  type Mode,
  type ModeTraits,
} from './modes.js';
export { noAllowance, stackVariables } from './stack.js';
export { workspaceFileProblem } from './workspace.js';
export { buildSpecProblems, isEcrRepository } from './image-inputs.js';

/**
 * Reads and validates every input into the Config of the run's mode. Nothing here has side effects
 * besides reading the stack file, so a bad input stops the run before anything is touched; every
 * problem is reported at once.
 */
export function readConfig(
  input: InputReader,
  env: NodeJS.ProcessEnv = process.env,
  /** The workflow's event payload (@actions/github reads it once, as context.payload). */
  event: Record<string, unknown> = {},
): Config {
  const inputs = new Inputs(input);
  const modeText = inputs.get('mode');
  const mode = isMode(modeText) ? modeText : 'deploy';
  if (mode !== modeText) inputs.problem(`mode must be one of ${MODE_NAMES.join(', ')}, not "${modeText}"`);
  const config = MODES[mode].rollsOut
    ? readRollout(inputs, mode, env, event)
    : readTeardown(inputs, mode, env, event);
  if (inputs.problems.length > 0) throw new InputError(inputs.problems);
  return config as Config;
}

/** What every mode reads alike: AWS, the waits every mode has, the GitHub token. */
function readCommon(inputs: Inputs) {
  return {
    awsRegion: inputs.get('aws-region') || undefined,
    registryId: readRegistryId(inputs),
    convergeTimeout: inputs.seconds('converge-timeout'),
    lockTimeout: inputs.seconds('lock-timeout', true),
    githubToken: inputs.get('github-token'),
  };
}

/** A mode that removes a pull request's stack (teardown). */
function readTeardown(inputs: Inputs, mode: Mode, env: NodeJS.ProcessEnv, event: Record<string, unknown>) {
  const deleteImages = inputs.bool('delete-images');
  const repository = readRepository(inputs, deleteImages);
  const pullRequest = event.pull_request as PullRequestEvent | undefined;
  const preview = readPullRequest(inputs, mode, pullRequest);
  const sha = readSha(inputs, env, preview ? pullRequest?.head?.sha : undefined);
  const ssh = readSsh(inputs);
  const stackName = readStackName(inputs, preview);
  readStackSecrets(inputs, env, stackName, false);
  const appUrl = readAppUrl(inputs, stackName, preview);
  return {
    mode,
    sha: isSha(sha) ? sha : '',
    // Undefined only together with a problem, which readConfig throws.
    preview: preview!,
    ...readCommon(inputs),
    repository,
    ssh,
    stackName,
    appUrl,
    deleteImages,
    grantedRepositories: readPreviewAllowance(inputs).repository.filter((r) => r !== repository),
  };
}

/** A mode that deploys a stack (deploy, preview, promote). */
function readRollout(inputs: Inputs, mode: Mode, env: NodeJS.ProcessEnv, event: Record<string, unknown>) {
  const traits = MODES[mode];
  if (inputs.bool('delete-images')) inputs.problem(onlyFor('delete-images', 'rollsOut', false));
  const pullRequest = event.pull_request as PullRequestEvent | undefined;
  const preview = readPullRequest(inputs, mode, pullRequest);
  const sha = readSha(inputs, env, preview ? pullRequest?.head?.sha : undefined);
  const release = {
    releaseTag: (event.release as { tag_name?: string } | undefined)?.tag_name,
    ref: env.GITHUB_REF,
  };
  const { sourceTag, repository, ...image } = readImage(inputs, mode, sha, preview, release);
  const ssh = readSsh(inputs);
  const stackName = readStackName(inputs, preview);
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const { envBySource, ...stack } = readStackFileInputs(
    inputs,
    env,
    traits.deploysPullRequest ? { dir: process.cwd(), workspace } : undefined,
  );
  const stackSecrets = readStackSecrets(inputs, env, stackName, true);
  checkStackEnv(inputs, envBySource, {
    versionVariable: stack.versionVariable,
    secrets: stackSecrets,
    preview: traits.deploysPullRequest,
  });
  if (!traits.deploysPullRequest && inputs.get('preview-allow'))
    inputs.problem(onlyFor('preview-allow', 'deploysPullRequest'));
  if (!traits.releases && inputs.bool('promote-untested'))
    inputs.problem(onlyFor('promote-untested', 'releases'));
  const appUrl = readAppUrl(inputs, stackName, preview);
  const { acceptance } = readAcceptance(inputs, appUrl);
  return {
    mode,
    sha: isSha(sha) ? sha : '',
    // (A preview without a pull request is a problem, which readConfig throws.)
    ...(traits.deploysPullRequest ? { preview: preview!, allow: readPreviewAllowance(inputs) } : {}),
    ...(traits.releases
      ? {
          sourceTag: sourceTag!,
          promoteWait: inputs.seconds('promote-wait', true),
          promoteUntested: inputs.bool('promote-untested'),
        }
      : {}),
    ...readCommon(inputs),
    repository,
    ...image,
    ...readBuildOptions(inputs, env, image.build, preview),
    ssh,
    stackName,
    ...stack,
    workspace,
    stackSecrets,
    oneShotTimeout: inputs.seconds('one-shot-timeout'),
    acceptance,
    appUrl,
    ...readTestContainer(inputs),
    acceptanceTimeout: inputs.seconds('acceptance-timeout'),
    rollbackOnFailure: inputs.bool('rollback-on-failure'),
    prune: inputs.bool('prune'),
  };
}
