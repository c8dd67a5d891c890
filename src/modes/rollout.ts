import path from 'node:path';
import * as core from '@actions/core';
import type { RolloutConfig, RolloutModeConfig } from '../config/index.js';
import { LABELS, runUrl, secretVariables, stackServiceName, type DeployFailure } from '../naming.js';
import { describeAcceptanceFailure, type ServiceResult, type ServiceState } from '../report/summary.js';
import { pullTestImage, runAcceptance } from '../runner/acceptance.js';
import type { Engine, Service, Task } from '../swarm/engine.js';
import { deployDocument, oneShotDocument } from '../stack/deploy-file.js';
import { everyImagePinned, serviceNames } from '../stack/document.js';
import { writeDeployFile, type RenderedStack } from '../stack/read.js';
import { ensureSecrets, removeSecrets } from '../swarm/secrets.js';
import {
  deployStack,
  describeStack,
  forceUnchanged,
  rollbackStack,
  snapshotStack,
  stackServicesToWait,
  waitConverged,
  waitOneShot,
  WaitTimeout,
  type OneShotResult,
  type ServiceBefore,
  type Waited,
} from '../swarm/stack.js';
import { connect, stackCli, takeLock, type Manager, type Run } from './session.js';
import { recordOutcome, type Deployed } from './outcome.js';
import { watchRollout } from './watch.js';

/** The names Swarm gives the one-shot services (STACK_SERVICE). */
const oneShotNames = (config: Pick<RolloutConfig, 'oneShotServices' | 'stackName'>) =>
  config.oneShotServices.map((s) => stackServiceName(config.stackName, s));

/** What the summary's services table needs to know of the stack: its one-shots and its services. */
export function stackShape(
  config: Pick<RolloutConfig, 'oneShotServices' | 'stackName'>,
  services: string[],
): { oneShot: string[]; inFile: string[] } {
  return { oneShot: oneShotNames(config), inFile: services };
}

/**
 * A service's verdict for the summary; a failure gets its task's error and last log lines, also in the
 * log (the step's one error annotation, at the end, carries them too).
 */
async function reportTask(
  engine: Engine,
  { service, verdict }: { service: Service; verdict: { state: ServiceState; detail: string; task?: Task } },
): Promise<ServiceResult> {
  const result: ServiceResult = { service: service.Spec.Name, state: verdict.state, detail: verdict.detail };
  if (verdict.state === 'failed') {
    core.info(`${service.Spec.Name} ${verdict.detail}`);
    if (verdict.task) {
      result.logs = await engine
        .taskLogs(verdict.task.ID, 30)
        .catch((e: Error) => `(logs unavailable: ${e.message})`);
      core.info(`Last log lines of ${service.Spec.Name} (task ${verdict.task.ID}):\n${result.logs}`);
    }
  }
  return result;
}

function describeFailure(f: ServiceResult): string {
  return `${f.service} ${f.detail}${f.logs ? `\n${f.logs.trimEnd()}` : ''}`;
}

function describeRollback(results: ServiceResult[]): string {
  if (results.length === 0) return 'nothing to roll back: the deploy changed no long-running service';
  return results
    .map((r) =>
      r.state === 'converged' ? `rolled back ${r.service}` : `rollback of ${r.service} failed: ${r.detail}`,
    )
    .join('; ');
}

/**
 * What the rollout works on: the stack as docker rendered it, with the run's images pinned to their
 * digests, and the names of its services.
 */
interface Rollout {
  config: RolloutConfig;
  run: Run;
  manager: Manager;
  stack: RenderedStack;
  services: string[];
}

/**
 * The image's way onto the swarm, once it is in the registry: deploy lock, stack secrets, the stack
 * deployed as docker rendered it (each of pins' images by its digest), then the one-shots,
 * convergence and tests watched together (rollback on failure), and the old secret versions removed
 * after a success.
 */
export async function rollOut(
  config: RolloutModeConfig,
  run: Run,
  {
    image,
    tunnel,
    stack,
    pins,
    deployed,
  }: {
    image: string;
    tunnel: Parameters<typeof connect>[1];
    stack: RenderedStack;
    /** REPOSITORY:TAG -> REPOSITORY:TAG@DIGEST for each image the run pushed, pulled or promoted. */
    pins: Record<string, string>;
    /** The same images, each by its repository and digest, for recordOutcome. */
    deployed: Deployed[];
  },
): Promise<void> {
  const manager = await connect(run, tunnel);
  await takeLock(config, run, manager.engine);
  if (config.stackSecrets.length > 0)
    await run.timeline.phase('Stack secrets', () =>
      ensureSecrets(manager.engine, config.stackName, config.stackSecrets, config.ssh.privateKey),
    );
  const doc = deployDocument(stack.doc, {
    pins,
    labels: deployLabels(config),
    imageLabel: LABELS.deployImage,
  });
  const rollout: Rollout = {
    config,
    run,
    manager,
    stack: { ...stack, doc },
    services: serviceNames(doc),
  };
  // The first step to fail is the deploy's outcome, which recordOutcome tags on its images. Later
  // failures (a test failing because an update failed) do not replace it.
  let failed: DeployFailure | undefined;
  const at = <T>(what: DeployFailure, step: Promise<T>): Promise<T> =>
    step.catch((e: unknown) => {
      failed ??= what;
      throw e;
    });
  const shape = stackShape(config, rollout.services);
  let before: Map<string, ServiceBefore> | undefined;
  try {
    const oneShotsDone = config.oneShotsFirst && (await at('one-shots', oneShotsFirst(rollout)));
    const prior = await at('rollout', deployWholeStack(rollout, { forceOneShots: !oneShotsDone }));
    before = prior;
    await watchRollout({
      oneShots: oneShotsDone
        ? async () => {}
        : (signal) => at('one-shots', watchOneShots(config, run, manager.engine, signal)),
      converge: (signal, serving) => at('rollout', watchConvergence(rollout, prior, { signal, serving })),
      tests: () => at('tests', runTests(config, run, image)),
      rollback: config.rollbackOnFailure ? () => rollback(config, run, manager, prior) : undefined,
    });
  } catch (e) {
    await recordOutcome(config, run, deployed, failed ?? 'rollout');
    throw e;
  } finally {
    // The summary shows the services as they run at the end, which is after the rollback when one ran.
    if (before)
      run.report.services = await describeStack(manager.engine, config.stackName, shape).catch(() => []);
  }
  await recordOutcome(config, run, deployed);
  if (config.stackSecrets.length > 0) await removeOldSecrets(config, manager.engine);
}

/**
 * On every service: the commit, the run, the actor (and on each that runs one of the run's images,
 * that image with its digest: see deployDocument).
 */
function deployLabels(config: RolloutConfig): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.deployCommit]: config.sha,
    [LABELS.deployRun]: runUrl() ?? '',
    [LABELS.deployActor]: process.env.GITHUB_ACTOR ?? '',
  };
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => v));
}

/**
 * A document deployed: written to the work directory and read back by docker (see writeDeployFile),
 * then docker stack deploy. When every image names a digest (the run's are pinned), the registry is
 * not asked at all: an outage would cost each service a long wait and leave it unpinned.
 */
async function deployDoc(
  { config, run, manager, stack }: Rollout,
  doc: RenderedStack['doc'],
  { file, prune }: { file: string; prune: boolean },
): Promise<void> {
  const written = path.join(run.work.root, file);
  await writeDeployFile(stackCli(run), { ...stack, doc }, written);
  await deployStack(manager.cli, config.stackName, written, stack.variables, {
    prune,
    resolveImage: everyImagePinned(doc) ? 'never' : 'always',
  });
  run.report.deployed = true;
}

async function forceOneShots(config: RolloutConfig, manager: Manager, before: Map<string, ServiceBefore>) {
  const forced = await forceUnchanged(manager.cli, manager.engine, oneShotNames(config), before);
  if (forced.length > 0) core.info(`Spec unchanged, forced a new run of: ${forced.join(', ')}`);
}

/**
 * Deploys the whole stack. The one-shots are forced to run again (their spec may be unchanged) unless
 * one-shots-first already ran them.
 */
async function deployWholeStack(rollout: Rollout, { forceOneShots: force }: { forceOneShots: boolean }) {
  const { config, run, manager, services } = rollout;
  return run.timeline.phase('Stack deploy', async () => {
    const before = await snapshotStack(manager.engine, config.stackName);
    await deployDoc(rollout, rollout.stack.doc, { file: 'stack.json', prune: config.prune });
    if (config.prune) {
      const inFile = new Set(services.map((s) => stackServiceName(config.stackName, s)));
      run.report.pruned = [...before.keys()].filter((name) => !inFile.has(name));
    }
    if (force) await forceOneShots(config, manager, before);
    return before;
  });
}

/**
 * one-shots-first: the one-shot services deployed alone (the document cut down to them and what they
 * use, without prune, so every other service keeps its spec) and waited for; true once they
 * completed. False, with nothing done, when no other service of the stack runs yet (its first
 * deploy): there is no previous version to keep, and the one-shots may need those services.
 */
async function oneShotsFirst(rollout: Rollout): Promise<boolean> {
  const { config, run, manager, services } = rollout;
  const before = await snapshotStack(manager.engine, config.stackName);
  const oneShots = oneShotNames(config);
  const running = services
    .map((s) => stackServiceName(config.stackName, s))
    .filter((name) => before.has(name) && !oneShots.includes(name))
    .sort();
  if (running.length === 0) {
    core.info(
      `one-shots-first: ${config.stackName} runs none of its services yet, so the whole stack is deployed at once`,
    );
    return false;
  }
  await run.timeline.phase('Stack deploy: one-shots', async () => {
    const cut = oneShotDocument(rollout.stack.doc, config.oneShotServices);
    await deployDoc(rollout, cut, { file: 'stack-one-shots.json', prune: false });
    await forceOneShots(config, manager, before);
  });
  try {
    await watchOneShots(config, run, manager.engine, new AbortController().signal);
  } catch (e) {
    run.report.rolloutNotStarted = true;
    throw new Error(
      `${(e as Error).message}\nThe rollout was not started (one-shots-first): ${running.join(', ')} still run${running.length === 1 ? 's' : ''} the previous version`,
      { cause: e },
    );
  }
  return true;
}

/**
 * A one-shot that was still running when the wait ended early, because another one-shot or the
 * rollout failed.
 */
function unfinished({ service, verdict }: Waited<OneShotResult>): ServiceResult {
  return {
    service: service.Spec.Name,
    state: 'unfinished',
    detail: verdict.detail,
    attempts: verdict.attempts,
  };
}

async function watchOneShots(config: RolloutConfig, run: Run, engine: Engine, signal: AbortSignal) {
  const names = oneShotNames(config);
  const { report } = run;
  await run.timeline.phase(
    'One-shot services',
    async () => {
      if (names.length === 0) return;
      let seen: Waited<OneShotResult>[] = [];
      const waited = await waitOneShot(engine, names, config.oneShotTimeout, {
        signal,
        onResults: (results) => (seen = results),
      }).catch((e: Error) => {
        // A one-shot that finished keeps its result, such as a migrate that completed before the wait
        // ran out. At a timeout, the one-shots that had not finished are reported as timed out.
        const timedOut = !signal.aborted && e instanceof WaitTimeout;
        report.oneShots = seen
          .filter((w) => !(timedOut && w.verdict.state === 'pending'))
          .map((w) =>
            w.verdict.state === 'pending' ? unfinished(w) : { ...w.verdict, service: w.service.Spec.Name },
          );
        if (timedOut) report.oneShotsTimedOut = true;
        throw e;
      });
      report.oneShots = await Promise.all(
        waited.map(async (w) =>
          w.verdict.state === 'pending'
            ? unfinished(w)
            : { ...(await reportTask(engine, w)), attempts: w.verdict.attempts },
        ),
      );
      const failed = report.oneShots.filter((o) => o.state === 'failed');
      if (failed.length > 0) throw new Error(failed.map(describeFailure).join('\n'));
    },
    { alongside: true },
  );
}

async function watchConvergence(
  { config, run, manager, services }: Rollout,
  before: Map<string, ServiceBefore>,
  { signal, serving }: { signal: AbortSignal; serving: () => void },
) {
  const { engine } = manager;
  await run.timeline.phase(
    'Converge',
    async () => {
      const { longRunning, leftover } = await stackServicesToWait(
        engine,
        config.stackName,
        services,
        oneShotNames(config),
      );
      if (leftover.length > 0) {
        core.warning(
          `${leftover.join(', ')}: in stack ${config.stackName} but not in ${config.stackFiles.join(' + ')}, so left as it was and not waited for; set prune: true to remove services ${config.stackFiles.length > 1 ? 'the stack files no longer have' : 'the stack file no longer has'}`,
        );
      }
      if (longRunning.length === 0) return serving();
      const waited = await waitConverged(engine, longRunning, config.convergeTimeout, before, {
        onServing: serving,
        signal,
      });
      const failed = await Promise.all(
        waited.filter((w) => w.verdict.state === 'failed').map((w) => reportTask(engine, w)),
      );
      if (failed.length > 0) {
        run.report.failedServices = failed;
        throw new Error(failed.map(describeFailure).join('\n'));
      }
    },
    { alongside: true },
  );
}

async function runTests(config: RolloutConfig, run: Run, image: string): Promise<void> {
  if (!config.acceptance) return;
  const testImage = config.acceptanceImage ?? image;
  if (config.acceptanceImage)
    await run.timeline.phase('Pull test image', () => pullTestImage(run.local, testImage));
  await run.timeline.phase('Acceptance tests', async () => {
    const result = await runAcceptance(run.local, {
      image: testImage,
      url: config.appUrl,
      entrypoint: config.acceptanceEntrypoint,
      command: config.acceptanceCommand,
      args: config.acceptanceArgs,
      timeout: config.acceptanceTimeout,
    });
    run.report.acceptance = result;
    if (!result.ok) throw new Error(describeAcceptanceFailure(result));
  });
}

async function rollback(
  config: RolloutConfig,
  run: Run,
  manager: Manager,
  before: Map<string, ServiceBefore>,
): Promise<string> {
  const oneShots = oneShotNames(config);
  run.report.rollback = await run.timeline
    .phase('Rollback', () =>
      rollbackStack(manager.cli, manager.engine, config.stackName, before, oneShots, config.convergeTimeout),
    )
    .then((waited) => waited.map((w) => ({ service: w.service.Spec.Name, ...w.verdict })))
    .catch((err: Error): ServiceResult[] => [
      { service: config.stackName, state: 'failed', detail: err.message },
    ]);
  return describeRollback(run.report.rollback);
}

/** Removes every version of the stack's secrets except the current ones. */
async function removeOldSecrets(config: RolloutConfig, engine: Engine) {
  const current = secretVariables(config.stackName, config.stackSecrets, config.ssh.privateKey);
  const removed = await removeSecrets(engine, config.stackName, Object.values(current)).catch((e: Error) => {
    core.warning(`could not remove old secret versions: ${e.message}`);
    return [];
  });
  if (removed.length > 0) core.info(`Removed old secret versions: ${removed.join(', ')}`);
}
