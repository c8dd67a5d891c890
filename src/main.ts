import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { forPullRequest, InputError, readConfig, rollsOut, type Config } from './config/index.js';
import { deploy } from './modes/deploy.js';
import { stackShape } from './modes/rollout.js';
import { promote } from './modes/promote.js';
import { stackCli, type Held, type Run } from './modes/session.js';
import { teardown } from './modes/teardown.js';
import { PreviewFeedback, type DeploymentOutcome } from './github/pull-request.js';
import { maskSecrets } from './report/mask.js';
import { stepOutputs } from './report/outputs.js';
import {
  renderInputProblems,
  renderPreviewComment,
  renderSummary,
  withoutCredentials,
  type Report,
} from './report/summary.js';
import { DockerCli } from './runner/docker.js';
import { runnerProblems } from './runner/preflight.js';
import { markMainStarted, saveWorkDir } from './runner/state.js';
import { createWorkDir, removeWorkDir } from './runner/workdir.js';
import { serviceNames } from './stack/document.js';
import { deployDocument } from './stack/deploy-file.js';
import { readStack, registryStandIn, writeDeployFile } from './stack/read.js';
import { describeStack } from './swarm/stack.js';
import { Timeline } from './timeline.js';

/**
 * Each mode's steps (a preview deploys the pull request's stack of its own). A new mode is a case here
 * and a row in config/modes.ts, which says what it does to the rest of the action.
 */
function runMode(config: Config, run: Run): Promise<void> {
  switch (config.mode) {
    case 'deploy':
    case 'preview':
      return deploy(config, run);
    case 'promote':
      return promote(config, run);
    case 'teardown':
      return teardown(config, run);
  }
}

async function writeSummary(markdown: string): Promise<void> {
  await core.summary
    .addRaw(markdown, true)
    .write()
    .catch((e: Error) => core.warning(`job summary: ${e.message}`));
}

/** How long a cancelled run gives the lock's release, so the credentials go before the runner kills the step. */
const CANCELLED_RELEASE_MS = 5000;

/**
 * Gives back what the run holds: the deploy lock, the tunnel, the work directory with the credentials.
 * A cancelled run waits for the lock's release at most CANCELLED_RELEASE_MS (the manager may be out of
 * reach, and the release would wait up to ssh-reconnect-timeout for it).
 */
async function cleanup(held: Held, workRoot: string, cancelled: boolean): Promise<void> {
  const released = held.lock
    ?.release()
    .catch((e: Error) => core.warning(`could not release the deploy lock: ${e.message}`));
  await (cancelled
    ? Promise.race([released, sleep(CANCELLED_RELEASE_MS, undefined, { ref: false })])
    : released);
  // The tunnel may still be opening when an earlier phase fails: wait for it, then close it.
  await held.tunnel?.then((t) => t.close()).catch(() => undefined);
  removeWorkDir(workRoot);
}

/**
 * A pull request's Deployment and comment (preview and teardown): a Deployment started now when the
 * mode deploys, told the outcome at the end; deactivated when the mode removed the stack.
 */
function gitHubFeedback(config: Config, report: Report, mask: (text: string) => string) {
  if (!forPullRequest(config)) return undefined;
  const deploys = rollsOut(config);
  const feedback = new PreviewFeedback(config.githubToken, config.preview.number, config.stackName);
  const started = deploys ? feedback.start(config.sha) : undefined;
  return {
    id: () => feedback.deploymentId,
    async finish(state: DeploymentOutcome): Promise<void> {
      await started;
      if (deploys) await feedback.finish(state, withoutCredentials(config.appUrl));
      else if (state === 'success') await feedback.deactivate();
      await feedback.comment(config.stackName, renderPreviewComment(report, feedback.runUrl, mask));
    },
  };
}

function readInputs(): Config | InputError {
  try {
    return readConfig((name) => core.getInput(name), process.env, context.payload);
  } catch (e) {
    return e instanceof InputError ? e : new InputError([(e as Error).message]);
  }
}

/**
 * The stack rendered by docker and checked before anything starts, with a stand-in for the registry's
 * name (ECR says it at login, and the rollout renders and checks the stack again then), and read back
 * by docker as it would be deployed (a document it reads otherwise fails now, not after the build).
 * Its services, or the problems.
 */
async function checkStack(config: Config, run: Pick<Run, 'local' | 'work'>): Promise<string[] | InputError> {
  if (!rollsOut(config)) return [];
  try {
    const stack = await readStack(config, stackCli(run), registryStandIn(config), process.env);
    const doc = deployDocument(stack.doc, { pins: {}, labels: {} });
    await writeDeployFile(stackCli(run), { ...stack, doc }, path.join(run.work.root, 'stack.json'));
    return serviceNames(doc);
  } catch (e) {
    return e instanceof InputError ? e : new InputError([(e as Error).message]);
  }
}

/**
 * Ends a run that did not start (bad inputs, a runner that cannot run the action, a stack file that
 * cannot be deployed): the step failed, and the problems in the job summary. Nothing was touched.
 */
function refuse(failure: string, problems: string[], title?: string): Promise<void> {
  core.setFailed(failure);
  return writeSummary(renderInputProblems(problems, title));
}

/** What a started run has for its end. */
interface Ending {
  config: Config;
  /** The stack's services, as the check before the run read them. */
  services: string[];
  report: Report;
  held: Held;
  workRoot: string;
  feedback?: ReturnType<typeof gitHubFeedback>;
}

/**
 * Ends a started run, whether it passed, failed or was cancelled (signal): the services' state when a
 * failed deploy did not say it (not when cancelled: the run stops asking the swarm then), the job
 * summary, what the run holds given back, the pull request told the outcome, the step's outputs. What
 * should happen at the end of every run (a notification of the outcome, say) goes here.
 */
async function endRun(ending: Ending, signal?: NodeJS.Signals): Promise<void> {
  const { config, services, report, held, feedback } = ending;
  const deployFailed = !report.ok && report.services.length === 0 && report.deployed;
  if (!signal && deployFailed && held.engine && rollsOut(config)) {
    const shape = stackShape(config, services);
    report.services = await describeStack(held.engine, config.stackName, shape).catch(() => []);
  }
  await writeSummary(renderSummary(report));
  await cleanup(held, ending.workRoot, signal !== undefined);
  await feedback?.finish(signal ? 'error' : report.ok ? 'success' : 'failure');
  const oneShotNames = rollsOut(config) ? config.oneShotServices : [];
  for (const [name, value] of Object.entries(stepOutputs(report, oneShotNames, feedback?.id())))
    core.setOutput(name, value);
}

/** The main step: read every input, run the mode's steps, report, give back what the run holds. */
export async function run(): Promise<void> {
  markMainStarted();
  const config = readInputs();
  if (config instanceof InputError) return refuse(config.message, config.problems);
  const runnerFaults = await runnerProblems({ rendersStacks: rollsOut(config) });
  if (runnerFaults.length > 0)
    return refuse(runnerFaults.join('\n'), runnerFaults, 'The runner cannot run this action');
  const secrets = maskSecrets(config);
  const work = createWorkDir();
  const local = new DockerCli(work.dockerConfig);
  const services = await checkStack(config, { local, work });
  if (services instanceof InputError) {
    removeWorkDir(work.root);
    return refuse(services.message, services.problems, 'The stack file cannot be deployed');
  }
  saveWorkDir(work.root);
  const timeline = new Timeline();
  const report: Report = {
    mode: config.mode,
    commit: config.sha || undefined,
    ok: false,
    phases: timeline.phases,
    stack: config.stackName,
    url: config.appUrl || undefined,
    services: [],
    oneShots: [],
  };
  const held: Held = {};
  const feedback = gitHubFeedback(config, report, (text) => secrets.mask(text));
  const ending: Ending = { config, services, report, held, workRoot: work.root, feedback };
  // A run ends once: a signal while it is ending waits for that end.
  let ended: Promise<void> | undefined;
  const end = (signal?: NodeJS.Signals) => (ended ??= endRun(ending, signal));
  const onSignal = (signal: NodeJS.Signals) => {
    core.error(`Received ${signal}: closing the tunnel and removing credentials`);
    if (!ended)
      report.failure = `cancelled (${signal}) after ${report.phases.map((p) => p.name).join(', ') || 'no phase'}`;
    void end(signal).finally(() => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await runMode(config, { work, report, held, timeline, local, secrets });
    report.ok = true;
  } catch (e) {
    report.failure = (e as Error).message;
    core.setFailed(report.failure);
  } finally {
    await end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
