import { isJobMode } from '../service-mode.js';
import type { Service, Task } from './engine.js';

/** Pure decisions about Swarm state: is a one-shot service done, has a service converged. */

export type OneShotVerdict =
  | { state: 'pending'; detail: string }
  | { state: 'complete'; detail: string; task: Task }
  | { state: 'failed'; detail: string; task?: Task };

export type ConvergeVerdict = {
  state: 'pending' | 'converged' | 'failed';
  detail: string;
  task?: Task;
  /** Converged with no rolling update of this deploy, so no update monitor watches the new tasks. */
  unmonitored?: boolean;
};

const FAILED_STATES = new Set(['failed', 'rejected', 'orphaned']);

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isEmpty);
  return false;
}

/** JSON with sorted keys and empty values dropped: the engine omits empties in a task's copy of the spec. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => !isEmpty(x))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A task belongs to the service's current spec when its copy of the task template is the same
 * (including ForceUpdate, which a forced re-run bumps). Runtime is set on the service only.
 */
export function hasCurrentSpec(service: Service, task: Task): boolean {
  return sameTemplate(service, task, ['Runtime']);
}

/**
 * Whether a rolling update must replace a task, as Swarm tests it, but for one thing: Swarm leaves a
 * task whose placement alone changed where it is only while its node still fits the new constraints;
 * the node is not checked here (when it no longer fits, Swarm starts an update, which is then awaited).
 */
export function isOutOfDate(service: Service, task: Task): boolean {
  return !sameTemplate(service, task, ['Runtime', 'Placement']);
}

function sameTemplate(service: Service, task: Task, ignored: string[]): boolean {
  const without = (spec: Record<string, unknown>) => ({
    ...spec,
    ...Object.fromEntries(ignored.map((k) => [k, undefined])),
  });
  return canonical(without(service.Spec.TaskTemplate)) === canonical(without(task.Spec));
}

/** Whether the Engine's service is a job (see service-mode.ts). */
export function isJob(service: Service): boolean {
  return Object.keys(service.Spec.Mode).some(isJobMode);
}

/** The tasks created for this deploy of the service: its current job iteration or current spec. */
export function tasksOfThisDeploy(service: Service, tasks: Task[]): Task[] {
  const mine = tasks.filter((t) => t.ServiceID === service.ID);
  if (isJob(service)) {
    const iteration = service.JobStatus?.JobIteration?.Index ?? 0;
    return mine.filter((t) => (t.JobIteration?.Index ?? 0) === iteration);
  }
  return mine.filter((t) => hasCurrentSpec(service, t));
}

/** An RFC 3339 time as the engine writes it (up to 9 fraction digits), padded so string order is time order. */
function timeKey(ts: string): string {
  const m = /^(.*T[\d:]+)(?:\.(\d+))?Z$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z` : ts;
}

/** Milliseconds since the epoch, keeping the sub-millisecond part. */
function millis(ts: string): number {
  const m = /^(.*T[\d:]+)(?:\.(\d+))?Z$/.exec(ts);
  return m ? Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000 : Date.parse(ts);
}

function newest(tasks: Task[]): Task | undefined {
  return [...tasks].sort((a, b) => (timeKey(a.Status.Timestamp) < timeKey(b.Status.Timestamp) ? 1 : -1))[0];
}

/** Node hostnames by node ID. */
export type NodeNames = ReadonlyMap<string, string>;

/** What Swarm's task error says when its node could not pull the image (gone, refused, unreachable). */
const PULL_FAILURE = /No such image|pull access denied|no basic auth credentials|manifest unknown/i;

/** A task that failed or was rejected because its node could not pull the image. */
export function isPullFailure(task: Task): boolean {
  return FAILED_STATES.has(task.Status.State) && PULL_FAILURE.test(task.Status.Err ?? '');
}

function describe(task: Task, nodes?: NodeNames): string {
  const s = task.Status;
  if (isPullFailure(task)) {
    const node = nodes?.get(task.NodeID ?? '') ?? task.NodeID ?? 'unknown';
    return `${s.State}: node ${node} could not pull the image: ${s.Err}`;
  }
  const exit = FAILED_STATES.has(s.State) ? s.ContainerStatus?.ExitCode : undefined;
  const err = s.Err ? `: ${s.Err}` : exit ? ` (exit code ${exit})` : '';
  return `${s.State}${err}`;
}

/** A task in one of these states no longer runs and is not started again (a rejected task never ran). */
const ENDED_STATES = new Set([...FAILED_STATES, 'complete', 'shutdown', 'remove']);
/** An attempt under way, rather than one lined up while Swarm waits out the restart delay. */
const ACTIVE_STATES = new Set(['starting', 'running']);

/** The restart policy as the engine reports it; Delay and Window in nanoseconds. */
interface RestartPolicy {
  Condition?: string;
  MaxAttempts?: number;
  Delay?: number;
  Window?: number;
}

/** The attempts of one slot (of one node for global services): Swarm counts restarts per slot. */
interface SlotAttempts {
  tasks: Task[];
  failures: Task[];
  live: Task[];
  /** The newest attempt failed and the restart policy makes no further one. */
  exhausted: boolean;
}

export interface OneShotAttempts {
  /** Attempts made or lined up (tasks of this deploy) in the slot that used the most. */
  used: number;
  /**
   * The most attempts of a slot: the first run plus max_attempts restarts, or 1 under condition none.
   * Unset when Swarm sets no bound: max_attempts 0, or a window (only restarts within it count).
   */
  max?: number;
  /** Why attempts failed, each distinct reason once, in the order they were first seen. */
  reasons: string[];
}

function restartPolicy(service: Service): RestartPolicy {
  return (service.Spec.TaskTemplate.RestartPolicy ?? {}) as RestartPolicy;
}

/**
 * How many attempts Swarm gives a slot, from the restart policy. Measured on engine 20.10: condition none
 * makes no restart (one run); max_attempts N gives the first run plus N restarts, unless a window is set:
 * then only the restarts created within the window before a failure count, and the attempts have no
 * bound in total; max_attempts 0 sets no bound.
 */
type RestartBound =
  | { kind: 'once' }
  | { kind: 'total'; restarts: number }
  | { kind: 'window'; restarts: number; windowNs: number }
  | { kind: 'unbounded' };

function restartBound(service: Service): RestartBound {
  const policy = restartPolicy(service);
  if (policy.Condition === 'none') return { kind: 'once' };
  const restarts = policy.MaxAttempts ?? 0;
  if (restarts <= 0) return { kind: 'unbounded' };
  const windowNs = policy.Window ?? 0;
  return windowNs > 0 ? { kind: 'window', restarts, windowNs } : { kind: 'total', restarts };
}

/** A global service (or job) runs one task per node, and Swarm counts its restarts per node. */
const isGlobal = (service: Service): boolean =>
  Boolean(service.Spec.Mode.Global || service.Spec.Mode.GlobalJob);

/** The tasks a replicated service wants; undefined for a global one, which wants one per eligible node. */
function wantedReplicas(service: Service): number | undefined {
  const replicated = service.Spec.Mode.Replicated;
  return replicated ? (replicated.Replicas ?? 1) : undefined;
}

/**
 * Groups the tasks of this deploy into Swarm's restart slots and decides, per slot, whether Swarm
 * restarts a failed or rejected attempt (restartBound). Measured on engine 20.10: a rejected task counts
 * as one attempt like a failed one.
 */
function attemptSlots(service: Service, tasks: Task[]): SlotAttempts[] {
  const bound = restartBound(service);
  const global = isGlobal(service);
  const bySlot = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = global ? `node ${t.NodeID ?? ''}` : `slot ${t.Slot ?? 0}`;
    bySlot.set(key, [...(bySlot.get(key) ?? []), t]);
  }
  return [...bySlot.values()].map((slot) => {
    const created = [...slot].sort((a, b) => (timeKey(a.CreatedAt) < timeKey(b.CreatedAt) ? -1 : 1));
    const failures = created.filter((t) => FAILED_STATES.has(t.Status.State));
    const live = created.filter((t) => !ENDED_STATES.has(t.Status.State));
    let exhausted = false;
    if (failures.length > 0 && live.length === 0) {
      if (bound.kind === 'once') exhausted = true;
      else if (bound.kind === 'total') exhausted = failures.length >= bound.restarts + 1;
      else if (bound.kind === 'window') {
        // Swarm restarts unless MaxAttempts restarts were made within Window before the failure: the
        // newest MaxAttempts tasks, all of them restarts when the slot holds more than MaxAttempts tasks.
        const lookback = millis(newest(failures)!.Status.Timestamp) - bound.windowNs / 1e6;
        exhausted =
          created.length > bound.restarts &&
          created.slice(-bound.restarts).every((t) => millis(t.CreatedAt) > lookback);
      }
    }
    return { tasks: created, failures, live, exhausted };
  });
}

/** The restart policy's bound in the stack file's terms, for messages that count runs. */
function boundNote(bound: RestartBound): string | undefined {
  switch (bound.kind) {
    case 'once':
      return 'restart_policy condition: none';
    case 'total':
      return `1 + max_attempts ${bound.restarts}`;
    case 'window':
      return `max_attempts ${bound.restarts} within window ${bound.windowNs / 1e9} s`;
    case 'unbounded':
      return undefined;
  }
}

/** The most attempts of a slot, when the restart policy bounds them in total. */
function maxAttemptsOf(bound: RestartBound): number | undefined {
  if (bound.kind === 'once') return 1;
  return bound.kind === 'total' ? bound.restarts + 1 : undefined;
}

function distinctReasons(tasks: Task[], nodes?: NodeNames): string[] {
  const failures = tasks
    .filter((t) => FAILED_STATES.has(t.Status.State))
    .sort((a, b) => (timeKey(a.Status.Timestamp) < timeKey(b.Status.Timestamp) ? -1 : 1));
  return [...new Set(failures.map((t) => describe(t, nodes)))];
}

/**
 * Attempts of a one-shot service's current deploy, for the verdict and the summary. Each task is one
 * attempt, rejected ones included. Without a bound (max unset), Swarm's task reaper keeps only the newest
 * tasks of a slot, so `used` may then fall short of the attempts really made.
 */
export function oneShotAttempts(service: Service, allTasks: Task[], nodes?: NodeNames): OneShotAttempts {
  const tasks = tasksOfThisDeploy(service, allTasks);
  const used = Math.max(0, ...attemptSlots(service, tasks).map((s) => s.tasks.length));
  return { used, max: maxAttemptsOf(restartBound(service)), reasons: distinctReasons(tasks, nodes) };
}

/**
 * Judges a one-shot service (restart_policy on-failure/none, or a replicated job) from its tasks.
 * Complete: enough tasks of this deploy are `complete` (exit code 0). A failed or rejected task is one
 * failed attempt: the service has failed only when a slot's attempts are used up (max_attempts restarts
 * after the first run, restarts within the window when one is set) or the policy does not restart
 * (condition none), once no task runs any more. Pending while Swarm retries: "run 1 of 7 (1 + max_attempts 6): rejected: …; Swarm retries".
 * A task whose node could not pull the image names that node (by its hostname, when nodes has it).
 */
export function judgeOneShot(service: Service, allTasks: Task[], nodes?: NodeNames): OneShotVerdict {
  const tasks = tasksOfThisDeploy(service, allTasks);
  const needed = service.Spec.Mode.ReplicatedJob?.TotalCompletions ?? wantedReplicas(service) ?? 1;
  const complete = tasks.filter((t) => t.Status.State === 'complete');
  const last = newest(tasks);
  if (needed === 0) return { state: 'complete', detail: 'scaled to 0 replicas: nothing to run', task: last! };

  // A slot whose attempts are used up is never restarted, so the service cannot complete any more.
  const slots = attemptSlots(service, tasks);
  const { max, reasons } = oneShotAttempts(service, tasks, nodes);
  const note = boundNote(restartBound(service));
  const exhausted = slots.find((s) => s.exhausted);
  if (exhausted) {
    const task = newest(exhausted.failures)!;
    const n = exhausted.tasks.length;
    const seen = reasons.length > 1 ? `; reasons seen: ${reasons.join(' | ')}` : '';
    const bound = note ? ` (${note})` : '';
    return {
      state: 'failed',
      detail: `failed after ${n === 1 ? '1 run' : `${n} runs`}${bound}: ${describe(task, nodes)}${seen}`,
      task,
    };
  }

  // A global one-shot runs once on every node: each node's slot needs its own complete task.
  const perNode = isGlobal(service);
  const live = tasks.filter((t) => !ENDED_STATES.has(t.Status.State));
  const everySlotComplete =
    slots.length > 0 && slots.every((s) => s.tasks.some((t) => t.Status.State === 'complete'));
  if (perNode ? everySlotComplete && live.length === 0 : complete.length >= needed) {
    const task = newest(complete)!;
    return { state: 'complete', detail: `completed with exit code 0 (task ${task.ID})`, task };
  }

  if (!last) return { state: 'pending', detail: 'no task created yet' };
  const unfinished = slots.filter((s) => !s.tasks.some((t) => t.Status.State === 'complete'));
  const retrying = [...(unfinished.length > 0 ? unfinished : slots)].sort(
    (a, b) => b.failures.length - a.failures.length,
  )[0];
  if (retrying.failures.length === 0)
    return { state: 'pending', detail: describe(newest(live) ?? last, nodes) };
  // Counted as runs, next to the stack file's max_attempts (restarts after the first run).
  const of = max ? ` of ${max}` : '';
  const current = newest(retrying.live);
  if (current && ACTIVE_STATES.has(current.Status.State)) {
    return {
      state: 'pending',
      detail: `${describe(current, nodes)} (run ${retrying.failures.length + 1}${of}${note ? `, ${note}` : ''})`,
    };
  }
  // The next run is lined up (Swarm waits out the restart delay) or about to be: say which run failed
  // and why (a rejected one never started).
  const lastFailure = newest(retrying.failures)!;
  return {
    state: 'pending',
    detail: `run ${retrying.failures.length}${of}${note ? ` (${note})` : ''}: ${describe(lastFailure, nodes)}; Swarm retries`,
  };
}

const UPDATE_FAILURES = new Set(['paused', 'rollback_started', 'rollback_paused', 'rollback_completed']);

/**
 * Judges a long-running service: the desired number of tasks run the current spec and, when the deploy
 * changed the spec (expectUpdate), Swarm's rolling update for it has started and completed. Rollbacks
 * and paused updates are failures, with the reason Swarm gives.
 */
export function judgeConvergence(
  service: Service,
  allTasks: Task[],
  expectUpdate?: { previousUpdateStartedAt?: string },
  nodes?: NodeNames,
): ConvergeVerdict {
  const update = service.UpdateStatus;
  if (expectUpdate && (!update?.StartedAt || update.StartedAt === expectUpdate.previousUpdateStartedAt)) {
    // Swarm starts no rolling update when no task is out of date (e.g. only placement changed). And a
    // spec applied again while an update rolls (docker stack deploy run again) clears the update's
    // status, which that update then never sets: once no task is out of date, nothing is left to wait for.
    if (!update && servesOnlyNewSpec(service, allTasks)) {
      return {
        state: 'converged',
        detail: 'no task out of date, so no rolling update',
        unmonitored: true,
      };
    }
    return { state: 'pending', detail: 'waiting for Swarm to start the rolling update' };
  }
  const mine = tasksOfThisDeploy(service, allTasks);
  const problem = newest(mine.filter((t) => FAILED_STATES.has(t.Status.State)));
  if (update?.State && UPDATE_FAILURES.has(update.State)) {
    return {
      state: 'failed',
      detail: `update ${update.State.replace('_', ' ')}: ${update.Message ?? 'no reason given'}`,
      task: problem,
    };
  }
  const tasks = mine.filter((t) => t.DesiredState === 'running');
  const running = tasks.filter((t) => t.Status.State === 'running');
  const want = wantedReplicas(service);
  // What a wait that times out reports: the newest task, not an older attempt that failed; else what
  // Swarm is waiting for.
  const latest = newest(mine);
  const waiting = waitingFor(service, allTasks);
  const note =
    latest && FAILED_STATES.has(latest.Status.State) && running.length < (want ?? 1)
      ? `; newest task: ${describe(latest, nodes)}`
      : waiting
        ? `; ${waiting}`
        : latest && latest.Status.State !== 'running' && running.length < (want ?? 1)
          ? `; newest task: ${describe(latest, nodes)}`
          : '';
  if (update?.State === 'updating' || (expectUpdate && update?.State !== 'completed')) {
    return { state: 'pending', detail: `updating, ${running.length}/${want ?? '?'} running${note}` };
  }
  if (want === 0) return { state: 'converged', detail: 'scaled to 0' };
  if (want === undefined) {
    const converged = tasks.length > 0 && running.length === tasks.length;
    return {
      state: converged ? 'converged' : 'pending',
      detail: `${running.length}/${tasks.length} running (global)${note}`,
    };
  }
  return {
    state: running.length >= want ? 'converged' : 'pending',
    detail: `${running.length}/${want} running${note}`,
  };
}

const STARTING: Record<string, string> = {
  pending: 'waiting for a node',
  assigned: 'assigned to a node',
  accepted: 'accepted by its node',
  preparing: 'preparing (pulling the image)',
  ready: 'ready to start',
};

/**
 * What a rolling update is waiting for, from the tasks' states: an old task still stopping (within its
 * stop grace period, after which it is killed), or a new one not running yet (scheduling, pulling its
 * image, its healthcheck). Undefined when it waits for nothing the tasks show.
 */
export function waitingFor(service: Service, allTasks: Task[]): string | undefined {
  const tasks = allTasks.filter((t) => t.ServiceID === service.ID);
  const stopping = tasks.filter(
    (t) => t.DesiredState !== 'running' && t.Status.State === 'running' && isOutOfDate(service, t),
  );
  if (stopping.length > 0) {
    const spec = service.Spec.TaskTemplate.ContainerSpec;
    const grace = (spec?.StopGracePeriod ?? 10e9) / 1e9;
    const which = stopping.length === 1 ? 'the old task' : `${stopping.length} old tasks`;
    return `waiting for ${which} to stop (it is killed after its stop grace period, ${grace} s)`;
  }
  const starting = newest(
    tasks.filter(
      (t) => t.DesiredState === 'running' && !isOutOfDate(service, t) && t.Status.State !== 'running',
    ),
  );
  if (!starting || ENDED_STATES.has(starting.Status.State)) return undefined;
  const state = starting.Status.State;
  if (state === 'starting') {
    const healthcheck = service.Spec.TaskTemplate.ContainerSpec?.Healthcheck?.Test?.[0];
    return healthcheck && healthcheck !== 'NONE'
      ? 'the new task is up, waiting for its healthcheck to pass'
      : 'the new task is starting';
  }
  const why = state === 'pending' && starting.Status.Err ? `: ${starting.Status.Err}` : '';
  return `the new task is ${STARTING[state] ?? state}${why}`;
}

/**
 * The service serves only its new spec: the tasks it should run are running, and none is out of date.
 * Requests then reach the new version only, though Swarm's update monitor may still roll it back.
 */
export function servesOnlyNewSpec(service: Service, allTasks: Task[]): boolean {
  const running = allTasks.filter((t) => t.ServiceID === service.ID && t.Status.State === 'running');
  if (running.some((t) => isOutOfDate(service, t))) return false;
  const want = wantedReplicas(service);
  if (want !== undefined) return running.length >= want;
  const desired = allTasks.filter((t) => t.ServiceID === service.ID && t.DesiredState === 'running');
  return desired.length > 0 && running.length === desired.length;
}

/**
 * Judges a service being put back to its previous spec: Swarm's rollback completed (a rollback
 * started after previousUpdateStartedAt) and the desired number of tasks run that spec.
 */
export function judgeRollback(
  service: Service,
  allTasks: Task[],
  previousUpdateStartedAt?: string,
): ConvergeVerdict {
  const update = service.UpdateStatus;
  if (!update?.StartedAt || update.StartedAt === previousUpdateStartedAt) {
    return { state: 'pending', detail: 'waiting for Swarm to start the rollback' };
  }
  if (update.State === 'rollback_paused') {
    return { state: 'failed', detail: `rollback paused: ${update.Message ?? 'no reason given'}` };
  }
  if (update.State !== 'rollback_completed')
    return { state: 'pending', detail: `${update.State ?? 'rolling back'}` };
  const running = tasksOfThisDeploy(service, allTasks).filter(
    (t) => t.DesiredState === 'running' && t.Status.State === 'running',
  ).length;
  const want = wantedReplicas(service) ?? Math.max(running, 1);
  return {
    state: running >= want ? 'converged' : 'pending',
    detail: `rolled back, ${running}/${want} running`,
  };
}
