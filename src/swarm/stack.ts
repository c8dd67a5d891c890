import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import type { DockerCli } from '../runner/docker.js';
import type { Engine, Service, Task } from './engine.js';
import {
  isJob,
  isPullFailure,
  servesOnlyNewSpec,
  judgeConvergence,
  judgeOneShot,
  judgeRollback,
  oneShotAttempts,
  type OneShotAttempts,
  type ConvergeVerdict,
  type NodeNames,
  type OneShotVerdict,
} from './judge.js';
import { stackFilter, stackServiceName } from '../naming.js';

export const POLL_MS = 250;
/** docker stack deploy runs at most this often when Swarm reports an update out of sequence. */
const DEPLOY_ATTEMPTS = 3;
/** How long the tasks of a newly created service must stay running (docker service create waits 5 s). */
const NEW_SERVICE_STABLE_MS = 5000;

/** What the deploy is judged against: each service of the stack as it was before. */
export interface ServiceBefore {
  /** Task template and job iteration: what makes a service start new tasks (every update bumps a job's iteration). */
  run: string;
  /** When Swarm's last rolling update of the service started, if any. */
  updateStartedAt?: string;
}

function runIdentity(service: Service): string {
  return JSON.stringify([service.Spec.TaskTemplate, service.JobStatus?.JobIteration?.Index ?? 0]);
}

/** The deploy changed a service that existed before it (a new one was not changed, but created). */
function changedByDeploy(service: Service, before: Map<string, ServiceBefore>): boolean {
  const was = before.get(service.Spec.Name);
  return was !== undefined && runIdentity(service) !== was.run;
}

function isLongRunning(service: Service, oneShot: string[]): boolean {
  return !oneShot.includes(service.Spec.Name) && !isJob(service);
}

/** The stack's services before the deploy (one API call), keyed by name. */
export async function snapshotStack(engine: Engine, stack: string): Promise<Map<string, ServiceBefore>> {
  const services = await engine.listServices(stackFilter(stack));
  return new Map(
    services.map((s) => [s.Spec.Name, { run: runIdentity(s), updateStartedAt: s.UpdateStatus?.StartedAt }]),
  );
}

/**
 * docker stack deploy --with-registry-auth of one stack file, through the tunnel, with the variables
 * it was rendered with (see DockerCli.stack). A CLI that has --detach (26 and later) is told
 * --detach=true: its default is to wait, and that wait never ends on a completed one-shot service
 * (the waits here judge it instead). resolveImage
 * always (the CLI's default) has the registry asked for each service's digest, through the manager;
 * never leaves every image as the file names it.
 */
export async function deployStack(
  cli: DockerCli,
  stack: string,
  file: string,
  variables: Record<string, string>,
  { prune = false, resolveImage = 'always' }: { prune?: boolean; resolveImage?: 'always' | 'never' } = {},
): Promise<void> {
  const help = await cli.stack(['deploy', '--help'], {}, { silent: true }, true);
  const detach = /--detach\b/.test(help.stdout) ? ['--detach=true'] : [];
  const args = [
    ...['deploy', '--with-registry-auth', '--resolve-image', resolveImage, ...detach],
    ...(prune ? ['--prune'] : []),
    ...['-c', file, stack],
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      await cli.stack(args, variables);
      return;
    } catch (e) {
      // Swarm changed a service between the CLI's read and its update (e.g. it paused the update of a
      // one-shot whose task had failed): the deploy is idempotent, so it is run again.
      if (attempt >= DEPLOY_ATTEMPTS || !/update out of sequence/.test((e as Error).message)) throw e;
      core.info(`A service changed while the stack was deployed (update out of sequence): deploying again`);
      await sleep(POLL_MS);
    }
  }
}

/**
 * A deploy that left a one-shot service's spec as it was starts no new task; force one, so that
 * every deploy (also a re-run of the same commit) runs migrate again, with the image the deploy left
 * (the CLI would ask the registry again).
 */
export async function forceUnchanged(
  cli: DockerCli,
  engine: Engine,
  names: string[],
  before: Map<string, ServiceBefore>,
): Promise<string[]> {
  const forced: string[] = [];
  for (const name of names) {
    const was = before.get(name);
    const now = await engine.inspectService(name);
    if (was && now && runIdentity(now) === was.run) {
      await cli.run(
        [
          ...['service', 'update', '--force', '--detach', '--with-registry-auth'],
          ...['--no-resolve-image', '--quiet', name],
        ],
        { silent: true },
      );
      forced.push(name);
    }
  }
  return forced;
}

/** A wait that ran out of time (not one that failed otherwise, e.g. the manager stopped answering). */
export class WaitTimeout extends Error {
  name = 'WaitTimeout';
}

export interface Waited<V> {
  service: Service;
  verdict: V;
}

interface WaitOptions<V> {
  what: string;
  timeoutSeconds: number;
  /** Ends the wait early (another part of the deploy failed). */
  signal?: AbortSignal;
  /** Sees each poll's services and tasks. */
  onPoll?: (services: Service[], tasks: Task[]) => void;
  /** Sees each poll's verdicts (what a wait that ends in an error last saw). */
  onResults?: (results: Waited<V>[]) => void;
  /** The first failed verdict ends the wait. */
  failFast?: boolean;
}

/**
 * The hostnames of the nodes of tasks that could not pull their image, for the verdicts to name: the
 * nodes are listed (one call) only when such a task is on a node not named yet. A list that fails
 * leaves the node IDs.
 */
async function namePullFailureNodes(engine: Engine, tasks: Task[], known: Map<string, string>) {
  const unnamed = tasks.some((t) => isPullFailure(t) && t.NodeID && !known.has(t.NodeID));
  if (!unnamed) return;
  const nodes = await engine.listNodes().catch(() => []);
  for (const n of nodes) known.set(n.ID, n.Description?.Hostname || n.ID);
  for (const t of tasks) if (t.NodeID && !known.has(t.NodeID)) known.set(t.NodeID, t.NodeID);
}

/**
 * Polls the services and their tasks (one call each per poll, however many services) until
 * every verdict is final; logs each change; on timeout, says what it last saw.
 */
async function waitForVerdicts<V extends { state: string; detail: string }>(
  shared: Engine,
  names: string[],
  judge: (service: Service, tasks: Task[], nodes: NodeNames) => V,
  done: (v: V) => boolean,
  { what, timeoutSeconds, signal, onPoll, onResults, failFast = false }: WaitOptions<V>,
): Promise<Waited<V>[]> {
  const engine = shared.fork();
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  const said = new Map<string, string>();
  const nodes = new Map<string, string>();
  for (let polls = 1; ; polls++) {
    signal?.throwIfAborted();
    const services = (await engine.listServices({ name: names })).filter((s) => names.includes(s.Spec.Name));
    const missing = names.filter((n) => !services.some((s) => s.Spec.Name === n));
    if (missing.length > 0)
      throw new Error(`service ${missing.join(', ')} is not in the swarm after the deploy`);
    const tasks = await engine.listTasks({ service: services.map((s) => s.ID) });
    onPoll?.(services, tasks);
    await namePullFailureNodes(engine, tasks, nodes);
    const results = services.map((service) => ({ service, verdict: judge(service, tasks, nodes) }));
    for (const { service, verdict } of results) {
      const line = `${verdict.state}: ${verdict.detail}`;
      if (said.get(service.Spec.Name) !== line) core.info(`${service.Spec.Name}: ${line}`);
      said.set(service.Spec.Name, line);
    }
    onResults?.(results);
    const failed = failFast && results.some((r) => r.verdict.state === 'failed');
    if (failed || results.every((r) => done(r.verdict))) {
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      core.debug(`waited ${seconds} s for ${what}: ${polls} polls, ${engine.calls} Engine API calls`);
      return results;
    }
    if (Date.now() > deadline) {
      const last = results.map((r) => `${r.service.Spec.Name}: ${r.verdict.detail}`).join('; ');
      throw new WaitTimeout(`timed out after ${timeoutSeconds}s waiting for ${what}; last seen: ${last}`);
    }
    await sleep(POLL_MS);
  }
}

/** A one-shot's verdict with the attempts its deploy used. */
export type OneShotResult = OneShotVerdict & { attempts: OneShotAttempts };

/** Waits until each one-shot service completed, or one failed (a failure ends the wait at once). */
export function waitOneShot(
  engine: Engine,
  names: string[],
  timeoutSeconds: number,
  { signal, onResults }: Pick<WaitOptions<OneShotResult>, 'signal' | 'onResults'> = {},
) {
  const judge = (service: Service, tasks: Task[], nodes: NodeNames): OneShotResult => ({
    ...judgeOneShot(service, tasks, nodes),
    attempts: oneShotAttempts(service, tasks, nodes),
  });
  return waitForVerdicts<OneShotResult>(engine, names, judge, (v) => v.state !== 'pending', {
    what: `one-shot service(s) ${names.join(', ')} to complete`,
    timeoutSeconds,
    signal,
    onResults,
    failFast: true,
  });
}

/**
 * The stack's long-running services that the stack file defines (everything but the one-shots), and
 * the stack's services the file no longer defines (a deploy without prune leaves them as they were).
 */
export async function stackServicesToWait(
  engine: Engine,
  stack: string,
  inFile: string[],
  oneShot: string[],
): Promise<{ longRunning: string[]; leftover: string[] }> {
  const services = await engine.listServices(stackFilter(stack));
  const defined = new Set(inFile.map((name) => stackServiceName(stack, name)));
  const names = (list: Service[]) => list.map((s) => s.Spec.Name).sort();
  return {
    longRunning: names(services.filter((s) => defined.has(s.Spec.Name) && isLongRunning(s, oneShot))),
    leftover: names(services.filter((s) => !defined.has(s.Spec.Name))),
  };
}

/**
 * Waits until every long-running service has converged on its new spec, or one failed. A service whose
 * task template the deploy changed must also have a rolling update of its own, started after the deploy
 * and completed: until Swarm's update monitor is done, a task that is running may still crash.
 * onServing is called once, as soon as every service serves only its new spec (tests can start then).
 */
export function waitConverged(
  engine: Engine,
  names: string[],
  timeoutSeconds: number,
  before: Map<string, ServiceBefore>,
  { onServing, signal }: { onServing?: () => void; signal?: AbortSignal } = {},
) {
  let serving = false;
  const onPoll = (services: Service[], tasks: Task[]) => {
    if (serving || !services.every((s) => servesOnlyNewSpec(s, tasks))) return;
    serving = true;
    core.info(`${names.join(', ')}: all tasks run the new spec`);
    onServing?.();
  };
  const convergedSince = new Map<string, number>();
  const judge = (service: Service, tasks: Task[], nodes: NodeNames): ConvergeVerdict => {
    const name = service.Spec.Name;
    const was = before.get(name);
    const expectUpdate = changedByDeploy(service, before)
      ? { previousUpdateStartedAt: was?.updateStartedAt }
      : undefined;
    const verdict = judgeConvergence(service, tasks, expectUpdate, nodes);
    const unmonitored = was === undefined || verdict.unmonitored;
    if (!unmonitored || verdict.state !== 'converged') {
      convergedSince.delete(name);
      return verdict;
    }
    // A new service, or one changed without a rolling update, has no update monitor that would catch a
    // task crashing right after it started: like docker service create, require its tasks to stay up.
    const since = convergedSince.get(name) ?? Date.now();
    convergedSince.set(name, since);
    const left = NEW_SERVICE_STABLE_MS - (Date.now() - since);
    if (left <= 0) return verdict;
    return {
      state: 'pending',
      detail: `${verdict.detail}, checking it stays up (${Math.ceil(left / 1000)} s)`,
    };
  };
  return waitForVerdicts<ConvergeVerdict>(engine, names, judge, (v) => v.state !== 'pending', {
    what: `services ${names.join(', ')} to converge`,
    timeoutSeconds,
    signal,
    onPoll,
  });
}

/**
 * Puts the stack's long-running services that this deploy changed back to the spec they had before
 * (docker service rollback), and waits for Swarm to finish. Services the deploy created are left.
 */
export async function rollbackStack(
  cli: DockerCli,
  engine: Engine,
  stack: string,
  before: Map<string, ServiceBefore>,
  oneShot: string[],
  timeoutSeconds: number,
): Promise<Waited<ConvergeVerdict>[]> {
  const services = await engine.listServices(stackFilter(stack));
  const changed = services.filter((s) => isLongRunning(s, oneShot) && changedByDeploy(s, before));
  if (changed.length === 0) return [];
  const startedBefore = new Map(changed.map((s) => [s.Spec.Name, s.UpdateStatus?.StartedAt]));
  for (const s of changed) {
    core.info(`Rolling back ${s.Spec.Name}`);
    await cli.run(['service', 'rollback', '--detach', '--quiet', s.Spec.Name], { silent: true });
  }
  const names = changed.map((s) => s.Spec.Name);
  return waitForVerdicts<ConvergeVerdict>(
    engine,
    names,
    (service, tasks) => judgeRollback(service, tasks, startedBefore.get(service.Spec.Name)),
    (v) => v.state !== 'pending',
    { what: `the rollback of ${names.join(', ')}`, timeoutSeconds },
  );
}

export interface ServiceRow {
  name: string;
  mode: string;
  tasks: string;
  image: string;
  update: string;
}

/**
 * One row per service of the stack, for the job summary. A one-shot's update state says nothing
 * (Swarm marks its update paused once the task exits), so its row says one-shot instead; a service
 * the stack file no longer defines says so.
 */
export async function describeStack(
  engine: Engine,
  stack: string,
  { oneShot = [], inFile }: { oneShot?: string[]; inFile?: string[] } = {},
): Promise<ServiceRow[]> {
  const defined = inFile && new Set(inFile.map((name) => stackServiceName(stack, name)));
  const services = await engine.listServices(stackFilter(stack));
  const tasks = await engine.listTasks({ service: services.map((s) => s.ID) });
  return services
    .map((s) => {
      const mine = tasks.filter((t) => t.ServiceID === s.ID && t.DesiredState === 'running');
      const running = mine.filter((t) => t.Status.State === 'running').length;
      const mode = Object.keys(s.Spec.Mode)[0] ?? '';
      const want = s.Spec.Mode.Replicated?.Replicas;
      // The digest's first 12 hex digits, as docker's short IDs: enough to tell images apart.
      const image = (s.Spec.TaskTemplate.ContainerSpec?.Image ?? '').replace(
        /(@sha256:[0-9a-f]{12})[0-9a-f]+$/,
        '$1',
      );
      return {
        name: s.Spec.Name,
        mode,
        tasks: want === undefined ? `${running} running` : `${running}/${want}`,
        image,
        update:
          defined && !defined.has(s.Spec.Name)
            ? 'not in stack-file'
            : isLongRunning(s, oneShot)
              ? (s.UpdateStatus?.State ?? '')
              : 'one-shot',
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
