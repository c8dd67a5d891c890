import * as core from '@actions/core';
import { runAcceptance } from './runner/acceptance.js';
import { DockerCli } from './runner/docker.js';
import { deleteImagesTagged, dockerLogin, getRegistryAuth, promoteImage } from './registry/ecr.js';
import { context } from '@actions/github';
import { PreviewFeedback, type DeploymentOutcome } from './report/github.js';
import { Engine, type Service, type Task } from './swarm/engine.js';
import { buildAndPush, imageName, pullExisting } from './registry/image.js';
import { InputError, readConfig, type Config } from './config/read.js';
import { acquireLock, lockOwner, type Lock } from './swarm/lock.js';
import { markMainStarted, saveWorkDir } from './runner/state.js';
import { removeSecrets, ensureSecrets } from './swarm/secrets.js';
import {
  renderInputProblems,
  renderPreviewComment,
  renderSummary,
  type ServiceResult,
  type Report,
} from './report/summary.js';
import {
  deployStack,
  describeStack,
  forceUnchanged,
  stackServicesToWait,
  snapshotStack,
  waitConverged,
  waitOneShot,
  rollbackStack,
  type OneShotResult,
  type ServiceBefore,
  type Waited,
} from './swarm/stack.js';
import { teardownStack } from './swarm/teardown.js';
import { openTunnel, type Tunnel } from './ssh/tunnel.js';
import { migrateOutput, oneShotOutcomes } from './report/outputs.js';
import { Timeline } from './timeline.js';
import { previewTagPrefix, stackServiceName } from './naming.js';
import { createWorkDir, removeWorkDir, type WorkDir } from './runner/workdir.js';

function maskSecrets(config: Config): void {
  for (const line of config.ssh.privateKey.split(/\r?\n/))
    if (line.trim().length > 8) core.setSecret(line.trim());
  if (config.ssh.passphrase) core.setSecret(config.ssh.passphrase);
  for (const secret of config.stackSecrets) {
    for (const line of secret.value.split(/\r?\n/)) if (line.trim()) core.setSecret(line.trim());
    core.setSecret(Buffer.from(secret.value).toString('base64'));
  }
}

/** What the stack file can interpolate: stack-env, then the action's own variables and secret names. */
function stackVariables(
  config: Config,
  registry: string,
  secretNames: Record<string, string>,
): Record<string, string> {
  return {
    ...config.stackEnv,
    STACK_NAME: config.stackName,
    ...(config.preview
      ? { PR_NUMBER: String(config.preview.number), PREVIEW_PORT: String(config.preview.port) }
      : {}),
    ECR_REGISTRY: registry,
    [config.versionVariable]: config.tag,
    ...secretNames,
  };
}

/** What the summary's services table needs to know of the stack file. */
function stackShape(config: Config): { oneShot: string[]; inFile: string[] } {
  return {
    oneShot: config.oneShotServices.map((s) => stackServiceName(config.stackName, s)),
    inFile: config.stackServices,
  };
}

function setOutputs(outputs: Record<string, string | number | undefined>): void {
  for (const [name, value] of Object.entries(outputs))
    if (value !== undefined) core.setOutput(name, String(value));
}

/** A service's verdict for the summary; a failure gets its task's error and last log lines, also in the log. */
async function reportTask(
  engine: Engine,
  { service, verdict }: { service: Service; verdict: { state: string; detail: string; task?: Task } },
): Promise<ServiceResult> {
  const result: ServiceResult = { service: service.Spec.Name, state: verdict.state, detail: verdict.detail };
  if (verdict.state === 'failed') {
    core.error(`${service.Spec.Name} ${verdict.detail}`);
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

/** What a run holds on the manager, for cleanup to give back whatever phase it stopped in. */
interface Held {
  /** The tunnel, possibly still opening. */
  tunnel?: Promise<Tunnel>;
  /** The Engine API client through the tunnel, once the manager answered. */
  engine?: Engine;
  lock?: Lock;
}

/** Starts the SSH handshake in the background (it runs while the image is built and pushed). */
function startTunnel(config: Config, work: WorkDir, held: Held): Promise<Tunnel> {
  const started = Date.now();
  const tunnelReady = openTunnel(config.ssh, work.tunnel).then((t) => {
    core.info(`SSH tunnel to ${config.ssh.host} ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return t;
  });
  tunnelReady.catch(() => undefined);
  held.tunnel = tunnelReady;
  return tunnelReady;
}

/** The tunnel's Engine API client, once the manager's engine answers. */
async function connect(
  config: Config,
  tunnelReady: Promise<Tunnel>,
  held: Held,
): Promise<{ tunnel: Tunnel; engine: Engine }> {
  const tunnel = await tunnelReady;
  const engine = new Engine(tunnel.socketPath, tunnel.ready);
  await engine.ping().catch((err: Error) => {
    throw new Error(
      `remote-docker-socket: no Docker engine answered at ${config.ssh.remoteSocket} on ${config.ssh.host} (${err.message.trim()})`,
      { cause: err },
    );
  });
  held.engine = engine;
  return { tunnel, engine };
}

/** The pipeline: ECR login, build and push (or promote), tunnel, stack deploy, one-shot wait, convergence, acceptance. */
async function deploy(config: Config, work: WorkDir, report: Report, held: Held): Promise<void> {
  const timeline = new Timeline();
  report.phases = timeline.phases;
  const local = new DockerCli(work.dockerConfig);
  const tunnelReady = startTunnel(config, work, held);

  const auth = await timeline.phase('ECR login', async () => {
    const a = await getRegistryAuth(config.awsRegion);
    await dockerLogin(local, a);
    core.info(`Logged in to ${a.registry}`);
    return a;
  });
  const repo = `${auth.registry}/${config.repository}`;
  const image = imageName(auth.registry, config.repository, config.tag);
  report.image = image;
  setOutputs({
    image,
    tag: config.tag,
    registry: auth.registry,
    stack: config.stackName,
    url: config.appUrl || undefined,
  });

  if (config.mode === 'promote') {
    const tags = [config.tag, ...config.extraTags];
    report.digest = await timeline.phase('Promote image', () =>
      promoteImage(
        config.awsRegion,
        config.repository,
        config.sourceTag!,
        tags,
        config.sha || config.sourceTag!,
      ),
    );
    report.promoted = tags;
    setOutputs({ 'promoted-tags': tags.join(',') });
  } else {
    const refs = [image, ...config.extraTags.map((t) => imageName(auth.registry, config.repository, t))];
    report.digest = await timeline.phase(config.build ? 'Build and push' : 'Pull existing image', () =>
      config.build ? buildAndPush(local, config, repo, refs) : pullExisting(local, repo, image),
    );
  }
  setOutputs({ digest: report.digest });

  const { tunnel, engine } = await timeline.phase('SSH tunnel', () => connect(config, tunnelReady, held));
  const manager = local.on(tunnel.dockerHost);
  held.lock = await timeline.phase('Deploy lock', () =>
    acquireLock(
      engine,
      config.stackName,
      lockOwner(),
      config.oneShotTimeout + config.convergeTimeout + config.acceptanceTimeout + 300,
      config.lockTimeout,
    ),
  );
  const oneShotNames = config.oneShotServices.map((s) => stackServiceName(config.stackName, s));
  let secretNames: Record<string, string> = {};
  if (config.stackSecrets.length > 0) {
    secretNames = await timeline.phase('Stack secrets', () =>
      ensureSecrets(engine, config.stackName, config.stackSecrets, config.ssh.privateKey),
    );
  }

  let before = new Map<string, ServiceBefore>();
  await timeline.phase('Stack deploy', async () => {
    before = await snapshotStack(engine, config.stackName);
    await deployStack(
      manager,
      config.stackName,
      config.stackFile,
      stackVariables(config, auth.registry, secretNames),
      { prune: config.prune },
    );
    report.deployed = true;
    const forced = await forceUnchanged(manager, engine, oneShotNames, before);
    if (forced.length > 0) core.info(`Spec unchanged, forced a new run of: ${forced.join(', ')}`);
  });

  // Swarm updates the long-running services while the one-shots run: both are watched at once. The
  // tests start when the one-shots are done and every service serves only its new spec, while Swarm's
  // update monitor may still roll an update back; the step waits for both verdicts.
  const stop = new AbortController();
  let serving!: () => void;
  const servingNow = new Promise<void>((resolve) => (serving = resolve));
  const converge = timeline.phase(
    'Converge',
    async () => {
      const { longRunning: names, leftover } = await stackServicesToWait(
        engine,
        config.stackName,
        config.stackServices,
        oneShotNames,
      );
      if (leftover.length > 0) {
        core.warning(
          `${leftover.join(', ')}: in stack ${config.stackName} but not in ${config.stackFile}, so left as it was and not waited for; set prune: true to remove services the stack file no longer has`,
        );
      }
      if (names.length === 0) return serving();
      const waited = await waitConverged(engine, names, config.convergeTimeout, before, {
        onServing: serving,
        signal: stop.signal,
      });
      const failed = await Promise.all(
        waited.filter((w) => w.verdict.state === 'failed').map((w) => reportTask(engine, w)),
      );
      if (failed.length > 0) {
        report.failedServices = failed;
        throw new Error(failed.map(describeFailure).join('\n'));
      }
    },
    { alongside: true },
  );
  const oneShots = timeline.phase(
    'One-shot services',
    async () => {
      if (oneShotNames.length === 0) return;
      let seen: Waited<OneShotResult>[] = [];
      const waited = await waitOneShot(engine, oneShotNames, config.oneShotTimeout, {
        signal: stop.signal,
        onResults: (results) => (seen = results),
      }).catch((e: Error) => {
        // What had finished keeps its result (a migrate that completed before the wait ran out).
        report.oneShots = seen
          .filter((w) => w.verdict.state !== 'pending')
          .map((w) => ({ ...w.verdict, service: w.service.Spec.Name }));
        if (!stop.signal.aborted) report.oneShotsTimedOut = true;
        throw e;
      });
      report.oneShots = await Promise.all(
        waited
          .filter((w) => w.verdict.state !== 'pending')
          .map(async (w) => ({ ...(await reportTask(engine, w)), attempts: w.verdict.attempts })),
      );
      const failed = report.oneShots.filter((o) => o.state === 'failed');
      if (failed.length > 0) throw new Error(failed.map(describeFailure).join('\n'));
    },
    { alongside: true },
  );
  const tests = async () => {
    if (!config.acceptance) return;
    await timeline.phase('Acceptance tests', async () => {
      const result = await runAcceptance(
        local,
        image,
        config.appUrl,
        config.acceptanceCommand,
        config.acceptanceArgs,
        config.acceptanceTimeout,
      );
      setOutputs({ 'tests-passed': result.passed, 'tests-failed': result.failed });
      report.acceptance = result;
      if (!result.ok) {
        const failedNames = result.tests.filter((t) => t.result === 'fail').map((t) => t.name);
        throw new Error(
          failedNames.length > 0
            ? `${failedNames.length} acceptance test(s) failed: ${failedNames.join('; ')}`
            : `acceptance tests failed: ${result.problem}`,
        );
      }
    });
  };

  try {
    try {
      // The first failure of either wait ends both.
      await Promise.all([oneShots, Promise.race([servingNow, converge])]);
    } catch (e) {
      stop.abort();
      await Promise.allSettled([oneShots, converge]);
      throw e;
    }
    // A failed update is the cause of whatever the tests saw, so it is reported first.
    const [converged, tested] = await Promise.allSettled([converge, tests()]);
    report.services = await describeStack(engine, config.stackName, stackShape(config)).catch(() => []);
    if (converged.status === 'rejected') throw converged.reason;
    if (tested.status === 'rejected') throw tested.reason;
  } catch (e) {
    if (config.rollbackOnFailure) {
      report.rollback = await timeline
        .phase('Rollback', () =>
          rollbackStack(manager, engine, config.stackName, before, oneShotNames, config.convergeTimeout),
        )
        .then((waited) => waited.map((w) => ({ service: w.service.Spec.Name, ...w.verdict })))
        .catch((err: Error) => [{ service: config.stackName, state: 'failed', detail: err.message }]);
      throw new Error(`${(e as Error).message}\n${describeRollback(report.rollback)}`, { cause: e });
    }
    throw e;
  }
  if (config.stackSecrets.length > 0) {
    const removed = await removeSecrets(engine, config.stackName, Object.values(secretNames)).catch(
      (e: Error) => {
        core.warning(`could not remove old secret versions: ${e.message}`);
        return [];
      },
    );
    if (removed.length > 0) core.info(`Removed old secret versions: ${removed.join(', ')}`);
  }
}

/** Teardown: remove a preview stack and all it left behind, and optionally its images. */
async function teardown(config: Config, work: WorkDir, report: Report, held: Held): Promise<void> {
  const timeline = new Timeline();
  report.phases = timeline.phases;
  const local = new DockerCli(work.dockerConfig);
  const { tunnel, engine } = await timeline.phase('SSH tunnel', () =>
    connect(config, startTunnel(config, work, held), held),
  );
  held.lock = await timeline.phase('Deploy lock', () =>
    acquireLock(engine, config.stackName, lockOwner(), config.convergeTimeout + 300, config.lockTimeout),
  );
  report.teardown = await timeline.phase('Teardown', () =>
    teardownStack(local.on(tunnel.dockerHost), engine, config.stackName, config.convergeTimeout),
  );
  if (!report.teardown.existed) core.notice(`There is no stack ${config.stackName}: nothing to tear down`);
  if (config.deleteImages) {
    const prefix = previewTagPrefix(config.preview!.number);
    const deleted = await timeline.phase('Delete images', () =>
      deleteImagesTagged(config.awsRegion, config.repository, prefix),
    );
    core.info(
      deleted.length > 0
        ? `Deleted ${config.repository}:${deleted.join(', ')}`
        : `No image tagged ${prefix}*`,
    );
  }
}

async function writeSummary(markdown: string): Promise<void> {
  await core.summary
    .addRaw(markdown, true)
    .write()
    .catch((e: Error) => core.warning(`job summary: ${e.message}`));
}

export async function run(): Promise<void> {
  markMainStarted();
  let config: Config;
  try {
    config = readConfig((name) => core.getInput(name), process.env, context.payload);
  } catch (e) {
    const message = (e as Error).message;
    core.setFailed(message);
    const problems = e instanceof InputError ? e.problems : [message];
    await writeSummary(renderInputProblems(problems));
    return;
  }
  maskSecrets(config);

  const work = createWorkDir();
  saveWorkDir(work.root);
  const held: Held = {};
  const cleanup = async () => {
    await held.lock
      ?.release()
      .catch((e: Error) => core.warning(`could not release the deploy lock: ${e.message}`));
    // The tunnel may still be opening when an earlier phase fails: wait for it, then close it.
    await held.tunnel?.then((t) => t.close()).catch(() => undefined);
    removeWorkDir(work.root);
  };
  const report: Report = {
    mode: config.mode,
    commit: config.sha || undefined,
    ok: false,
    phases: [],
    stack: config.stackName,
    url: config.appUrl || undefined,
    services: [],
    oneShots: [],
  };
  const feedback = config.preview
    ? new PreviewFeedback(config.githubToken, config.preview.number, config.stackName)
    : undefined;
  const deploymentStarted = config.mode === 'preview' ? feedback?.start(config.sha) : undefined;
  /** The pull request's Deployment status and comment, once the run has its outcome. */
  const tellGitHub = async (state: DeploymentOutcome) => {
    if (!feedback) return;
    await deploymentStarted;
    if (config.mode === 'preview') await feedback.finish(state, config.appUrl);
    else if (state === 'success') await feedback.deactivate();
    setOutputs({ 'deployment-id': feedback.deploymentId });
    await feedback.comment(config.stackName, renderPreviewComment(report, feedback.runUrl));
  };

  const onSignal = (signal: NodeJS.Signals) => {
    core.error(`Received ${signal}: closing the tunnel and removing credentials`);
    report.failure = `cancelled (${signal}) after ${report.phases.map((p) => p.name).join(', ') || 'no phase'}`;
    void writeSummary(renderSummary(report))
      .then(cleanup)
      .then(() => tellGitHub('error'))
      .finally(() => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await (config.mode === 'teardown' ? teardown : deploy)(config, work, report, held);
    report.ok = true;
  } catch (e) {
    report.failure = (e as Error).message;
    core.setFailed(report.failure);
  } finally {
    const outcomes = oneShotOutcomes(
      config.stackName,
      config.mode === 'teardown' ? [] : config.oneShotServices,
      report.oneShots,
      report.oneShotsTimedOut ?? false,
    );
    setOutputs({ migrate: migrateOutput(outcomes), 'one-shots': JSON.stringify(outcomes) });
    if (!report.ok && report.services.length === 0 && report.deployed && held.engine) {
      report.services = await describeStack(held.engine, config.stackName, stackShape(config)).catch(
        () => [],
      );
    }
    await writeSummary(renderSummary(report));
    await cleanup();
    await tellGitHub(report.ok ? 'success' : 'failure');
  }
}
