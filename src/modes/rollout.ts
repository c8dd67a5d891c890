import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { stackVariables, type RolloutConfig } from '../config/index.js';
import { LABELS, oneShotStackFileName, runUrl, stackServiceName } from '../naming.js';
import type { RegistryAuth } from '../registry/ecr.js';
import { describeAcceptanceFailure, type ServiceResult } from '../report/summary.js';
import { pullTestImage, runAcceptance } from '../runner/acceptance.js';
import type { Engine, Service, Task } from '../swarm/engine.js';
import { oneShotStackFiles } from '../config/one-shot-stack.js';
import { ensureSecrets, removeSecrets } from '../swarm/secrets.js';
import {
  deployStack,
  describeStack,
  forceUnchanged,
  labelsOverride,
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
import { connect, takeLock, type Manager, type Run } from './session.js';
import { watchRollout } from './watch.js';

/** What the summary's services table needs to know of the stack file. */
export function stackShape(config: RolloutConfig): { oneShot: string[]; inFile: string[] } {
  return {
    oneShot: config.oneShotServices.map((s) => stackServiceName(config.stackName, s)),
    inFile: config.stackServices,
  };
}

/**
 * A service's verdict for the summary; a failure gets its task's error and last log lines, also in the
 * log (the step's one error annotation, at the end, carries them too).
 */
async function reportTask(
  engine: Engine,
  { service, verdict }: { service: Service; verdict: { state: string; detail: string; task?: Task } },
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
 * The image's way onto the swarm, once it is in the registry: deploy lock, stack secrets, stack
 * deploy, then the one-shots, convergence and tests watched together (rollback on failure), and the
 * old secret versions removed after a success.
 */
export async function rollOut(
  config: RolloutConfig,
  run: Run,
  { auth, image, tunnel }: { auth: RegistryAuth; image: string; tunnel: Parameters<typeof connect>[2] },
): Promise<void> {
  const manager = await connect(config, run, tunnel);
  await takeLock(config, run, manager.engine);
  const secretNames =
    config.stackSecrets.length > 0
      ? await run.timeline.phase('Stack secrets', () =>
          ensureSecrets(manager.engine, config.stackName, config.stackSecrets, config.ssh.privateKey),
        )
      : {};
  const variables = stackVariables(config, auth.registry, secretNames);
  const oneShotsDone = config.oneShotsFirst && (await oneShotsFirst(config, run, manager, variables));
  const before = await deploy(config, run, manager, variables, { forceOneShots: !oneShotsDone });
  try {
    await watchRollout({
      oneShots: oneShotsDone
        ? async () => {}
        : (signal) => watchOneShots(config, run, manager.engine, signal),
      converge: (signal, serving) =>
        watchConvergence(config, run, manager.engine, before, { signal, serving }),
      tests: () => runTests(config, run, image),
      rollback: config.rollbackOnFailure ? () => rollback(config, run, manager, before) : undefined,
    });
  } finally {
    // What runs now, after a rollback too.
    run.report.services = await describeStack(manager.engine, config.stackName, stackShape(config)).catch(
      () => [],
    );
  }
  if (config.stackSecrets.length > 0) await removeOldSecrets(config, manager.engine, secretNames);
}

/** On every service: the commit, the image (with the digest pushed or promoted), the run, the actor. */
function deployLabels(config: RolloutConfig, run: Run): Record<string, string> {
  const { image, digest } = run.report;
  const labels: Record<string, string> = {
    [LABELS.deployCommit]: config.sha,
    [LABELS.deployImage]: digest && image ? `${image}@${digest}` : (image ?? ''),
    [LABELS.deployRun]: runUrl() ?? '',
    [LABELS.deployActor]: process.env.GITHUB_ACTOR ?? '',
  };
  return Object.fromEntries(Object.entries(labels).filter(([, v]) => v));
}

/**
 * The stack files, with the deploy labels for services (written to the work directory as one more
 * file), deployed; a one-shot whose spec did not change is forced to run again.
 */
async function deployFiles(
  config: RolloutConfig,
  run: Run,
  manager: Manager,
  {
    files,
    services,
    variables,
    prune,
  }: { files: string[]; services: string[]; variables: Record<string, string>; prune: boolean },
): Promise<void> {
  const labels = path.join(run.work.root, 'deploy-labels.yml');
  fs.writeFileSync(labels, labelsOverride(services, deployLabels(config, run), config.composeVersion));
  await deployStack(manager.cli, config.stackName, [...files, labels], variables, {
    prune,
    // The action's images are pinned already: with every other one pinned too, the registry is not
    // asked at all (an outage would cost each service a long wait and leave it unpinned).
    resolveImage: config.everyImagePinned ? 'never' : 'always',
  });
  run.report.deployed = true;
}

async function forceOneShots(config: RolloutConfig, manager: Manager, before: Map<string, ServiceBefore>) {
  const forced = await forceUnchanged(manager.cli, manager.engine, stackShape(config).oneShot, before);
  if (forced.length > 0) core.info(`Spec unchanged, forced a new run of: ${forced.join(', ')}`);
}

/** The whole stack deployed; the one-shots forced to run again unless they ran first. */
async function deploy(
  config: RolloutConfig,
  run: Run,
  manager: Manager,
  variables: Record<string, string>,
  { forceOneShots: force }: { forceOneShots: boolean },
): Promise<Map<string, ServiceBefore>> {
  return run.timeline.phase('Stack deploy', async () => {
    const before = await snapshotStack(manager.engine, config.stackName);
    const { stackFiles: files, stackServices: services, prune } = config;
    await deployFiles(config, run, manager, { files, services, variables, prune });
    if (prune) {
      const inFile = new Set(services.map((s) => stackServiceName(config.stackName, s)));
      run.report.pruned = [...before.keys()].filter((name) => !inFile.has(name));
    }
    if (force) await forceOneShots(config, manager, before);
    return before;
  });
}

/**
 * one-shots-first: the one-shot services deployed alone (the stack files cut down to them, without
 * prune, so every other service keeps its spec) and waited for; true once they completed. False, with
 * nothing done, when no other service of the stack files runs yet (the stack's first deploy): there is
 * no previous version to keep, and the one-shots may need those services.
 */
async function oneShotsFirst(
  config: RolloutConfig,
  run: Run,
  manager: Manager,
  variables: Record<string, string>,
): Promise<boolean> {
  const before = await snapshotStack(manager.engine, config.stackName);
  const oneShots = stackShape(config).oneShot;
  const running = config.stackServices
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
    // Only what this run wrote is held, for cleanup to remove should the run be cancelled.
    const files: string[] = (run.held.files = []);
    try {
      writeOneShotStackFiles(config, files);
      await deployFiles(config, run, manager, {
        files,
        services: config.oneShotServices,
        variables,
        prune: false,
      });
    } finally {
      for (const f of files) fs.rmSync(f, { force: true });
      run.held.files = [];
    }
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
 * The stack files cut down to the one-shot services, each beside the first stack file (see
 * oneShotStackFileName) and added to written once it is; a file of that name already there is an error.
 */
function writeOneShotStackFiles(config: RolloutConfig, written: string[]): void {
  const dir = path.dirname(path.resolve(config.stackFiles[0]));
  const texts = oneShotStackFiles(
    config.stackFiles.map((f) => fs.readFileSync(f, 'utf8')),
    config.oneShotServices,
  );
  texts.forEach((text, i) => {
    const file = path.join(dir, oneShotStackFileName(i));
    try {
      fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new Error(
        `one-shots-first: could not write ${file} beside stack-file ${config.stackFiles[0]}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    written.push(file);
  });
}

/** A one-shot still running when the wait ended early (another one failed, or the rollout did). */
function unfinished({ service, verdict }: Waited<OneShotResult>): ServiceResult {
  return {
    service: service.Spec.Name,
    state: 'unfinished',
    detail: verdict.detail,
    attempts: verdict.attempts,
  };
}

async function watchOneShots(config: RolloutConfig, run: Run, engine: Engine, signal: AbortSignal) {
  const names = stackShape(config).oneShot;
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
        // What had finished keeps its result (a migrate that completed before the wait ran out); at a
        // timeout, what had not is timed-out.
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
  config: RolloutConfig,
  run: Run,
  engine: Engine,
  before: Map<string, ServiceBefore>,
  { signal, serving }: { signal: AbortSignal; serving: () => void },
) {
  await run.timeline.phase(
    'Converge',
    async () => {
      const { longRunning, leftover } = await stackServicesToWait(
        engine,
        config.stackName,
        config.stackServices,
        stackShape(config).oneShot,
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
  const oneShots = stackShape(config).oneShot;
  run.report.rollback = await run.timeline
    .phase('Rollback', () =>
      rollbackStack(manager.cli, manager.engine, config.stackName, before, oneShots, config.convergeTimeout),
    )
    .then((waited) => waited.map((w) => ({ service: w.service.Spec.Name, ...w.verdict })))
    .catch((err: Error) => [{ service: config.stackName, state: 'failed', detail: err.message }]);
  return describeRollback(run.report.rollback);
}

async function removeOldSecrets(config: RolloutConfig, engine: Engine, current: Record<string, string>) {
  const removed = await removeSecrets(engine, config.stackName, Object.values(current)).catch((e: Error) => {
    core.warning(`could not remove old secret versions: ${e.message}`);
    return [];
  });
  if (removed.length > 0) core.info(`Removed old secret versions: ${removed.join(', ')}`);
}
