import type { Service, Task } from './engine.js';

/** Pure decisions about Swarm state: is a one-shot service done, has a service converged. */

export type OneShotVerdict =
  | { state: 'pending'; detail: string }
  | { state: 'complete'; detail: string; task: Task }
  | { state: 'failed'; detail: string; task?: Task };

export type ConvergeVerdict = { state: 'pending' | 'converged' | 'failed'; detail: string; task?: Task };

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
  const withoutRuntime = (spec: Record<string, unknown>) => ({ ...spec, Runtime: undefined });
  return canonical(withoutRuntime(service.Spec.TaskTemplate)) === canonical(withoutRuntime(task.Spec));
}

export function isJob(service: Service): boolean {
  return Boolean(service.Spec.Mode.ReplicatedJob || service.Spec.Mode.GlobalJob);
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

function newest(tasks: Task[]): Task | undefined {
  return [...tasks].sort((a, b) => (a.Status.Timestamp < b.Status.Timestamp ? 1 : -1))[0];
}

function describe(task: Task): string {
  const s = task.Status;
  const exit = FAILED_STATES.has(s.State) ? s.ContainerStatus?.ExitCode : undefined;
  const err = s.Err ? `: ${s.Err}` : exit ? ` (exit code ${exit})` : '';
  return `${s.State}${err}`;
}

/**
 * Judges a one-shot service (restart_policy on-failure/none, or a replicated job) from its tasks.
 * Complete: enough tasks of this deploy are `complete` (exit code 0). Failed: a task was rejected,
 * or a slot used up the restart policy's attempts (max_attempts restarts after the first run).
 */
export function judgeOneShot(service: Service, allTasks: Task[]): OneShotVerdict {
  const tasks = tasksOfThisDeploy(service, allTasks);
  const needed =
    service.Spec.Mode.ReplicatedJob?.TotalCompletions ?? service.Spec.Mode.Replicated?.Replicas ?? 1;
  const complete = tasks.filter((t) => t.Status.State === 'complete');
  const last = newest(tasks);
  if (needed === 0) return { state: 'complete', detail: 'scaled to 0 replicas: nothing to run', task: last! };

  const rejected = newest(tasks.filter((t) => t.Status.State === 'rejected'));
  if (rejected) {
    return {
      state: 'failed',
      detail: `task ${rejected.ID} was rejected: ${rejected.Status.Err ?? 'no reason given'}`,
      task: rejected,
    };
  }

  const globalJob = Boolean(service.Spec.Mode.GlobalJob);
  const running = tasks.filter((t) => !FAILED_STATES.has(t.Status.State) && t.Status.State !== 'complete');
  if (globalJob ? complete.length > 0 && running.length === 0 : complete.length >= needed) {
    const task = newest(complete)!;
    return { state: 'complete', detail: `completed with exit code 0 (task ${task.ID})`, task };
  }

  const policy = service.Spec.TaskTemplate.RestartPolicy;
  const condition = policy?.Condition ?? 'any';
  const maxAttempts = policy?.MaxAttempts ?? 0;
  const failed = tasks.filter((t) => FAILED_STATES.has(t.Status.State));
  const failedBySlot = new Map<number, Task[]>();
  for (const t of failed) failedBySlot.set(t.Slot ?? 0, [...(failedBySlot.get(t.Slot ?? 0) ?? []), t]);
  for (const slotFailures of failedBySlot.values()) {
    const exhausted = condition === 'none' || (maxAttempts > 0 && slotFailures.length >= maxAttempts + 1);
    if (exhausted && running.length === 0) {
      const task = newest(slotFailures)!;
      const attempts = slotFailures.length === 1 ? '1 attempt' : `${slotFailures.length} attempts`;
      return { state: 'failed', detail: `failed after ${attempts}: ${describe(task)}`, task };
    }
  }

  if (!last) return { state: 'pending', detail: 'no task created yet' };
  const attempt =
    failed.length > 0 ? ` (attempt ${failed.length + 1}${maxAttempts ? ` of ${maxAttempts + 1}` : ''})` : '';
  const current = running.length > 0 ? newest(running)! : last;
  return { state: 'pending', detail: `${describe(current)}${attempt}` };
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
): ConvergeVerdict {
  const update = service.UpdateStatus;
  if (expectUpdate && (!update?.StartedAt || update.StartedAt === expectUpdate.previousUpdateStartedAt)) {
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
  const mode = service.Spec.Mode;
  const want = mode.Replicated ? (mode.Replicated.Replicas ?? 1) : undefined;
  const note = problem && running.length < (want ?? 1) ? `; last failure: ${describe(problem)}` : '';
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

/**
 * The service serves only its new spec: the tasks it should run are of its current spec and running,
 * and no task of an older spec still runs. Requests then reach the new version only, though Swarm's
 * update monitor may still roll it back.
 */
export function servesOnlyNewSpec(service: Service, allTasks: Task[]): boolean {
  const running = allTasks.filter((t) => t.ServiceID === service.ID && t.Status.State === 'running');
  if (running.some((t) => !hasCurrentSpec(service, t))) return false;
  const want = service.Spec.Mode.Replicated ? (service.Spec.Mode.Replicated.Replicas ?? 1) : undefined;
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
  const want = service.Spec.Mode.Replicated
    ? (service.Spec.Mode.Replicated.Replicas ?? 1)
    : Math.max(running, 1);
  return {
    state: running >= want ? 'converged' : 'pending',
    detail: `rolled back, ${running}/${want} running`,
  };
}
