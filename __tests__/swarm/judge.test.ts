import fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { Service, Task } from '../../src/swarm/engine.js';
import {
  hasCurrentSpec,
  judgeConvergence,
  judgeOneShot,
  judgeRollback,
  oneShotAttempts,
  servesOnlyNewSpec,
  waitingFor,
  tasksOfThisDeploy,
} from '../../src/swarm/judge.js';

// Service and task JSON recorded from the sandbox's Swarm (engine 20.10, API 1.41).
interface Recorded {
  service: Service;
  tasks: Task[];
}
const load = (name: string): Recorded =>
  JSON.parse(fs.readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Recorded;

const complete = load('migrate-complete');
const failed = load('migrate-failed');
const app = load('app-updated');
const job = load('job-rerun');

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
function withState(task: Task, state: string, extra: Partial<Task['Status']> = {}): Task {
  const t = clone(task);
  t.Status = { ...t.Status, State: state, ...extra };
  return t;
}

describe('judgeOneShot on recorded Swarm state', () => {
  test('a complete task of the current spec is success', () => {
    const v = judgeOneShot(complete.service, complete.tasks);
    expect(v.state).toBe('complete');
    expect(v.detail).toContain(complete.tasks[0].ID);
  });

  test('four failed tasks with max_attempts 3 is failure, reporting the newest task', () => {
    const v = judgeOneShot(failed.service, failed.tasks);
    expect(v).toMatchObject({
      state: 'failed',
      detail: 'failed after 4 runs (1 + max_attempts 3): failed: task: non-zero exit (3)',
    });
    const newest = [...failed.tasks].sort((x, y) => (x.Status.Timestamp < y.Status.Timestamp ? 1 : -1))[0];
    expect(v.state === 'failed' && v.task?.ID).toBe(newest.ID);
  });

  const [f1, f2, f3] = [...failed.tasks].sort((x, y) => (x.Status.Timestamp < y.Status.Timestamp ? -1 : 1));
  test.each<[string, Task[], string, RegExp]>([
    ['no task yet', [], 'pending', /no task created yet/],
    ['first attempt running', [withState(f1, 'running', { Err: undefined })], 'pending', /^running$/],
    [
      'one failure, restart not created yet',
      [f1],
      'pending',
      /^run 1 of 4 \(1 \+ max_attempts 3\): failed: task: non-zero exit \(3\); Swarm retries$/,
    ],
    [
      'three failures and a running fourth attempt',
      [f1, f2, f3, withState(f3, 'starting', { Err: undefined })],
      'pending',
      /starting \(run 4 of 4, 1 \+ max_attempts 3\)/,
    ],
    [
      'two failures then complete',
      [f1, f2, withState(f3, 'complete', { Err: undefined })],
      'complete',
      /exit code 0/,
    ],
    [
      // Was 'failed' at once before rejections counted as attempts: max_attempts 3 leaves 3 restarts.
      'rejected task',
      [withState(f1, 'rejected', { Err: 'No such image: x' })],
      'pending',
      /^run 1 of 4 \(1 \+ max_attempts 3\): rejected: node \w+ could not pull the image: No such image: x; Swarm retries$/,
    ],
  ])('%s → %s', (_name, tasks, state, detail) => {
    const v = judgeOneShot(failed.service, tasks);
    expect(v.state).toBe(state);
    expect(v.detail).toMatch(detail);
  });

  test('tasks of an older spec do not count: a complete task of the previous image is still pending', () => {
    const oldTask = withState(failed.tasks[0], 'complete', { Err: undefined });
    oldTask.Spec = clone(complete.tasks[0].Spec); // recorded for the previous image
    expect(judgeOneShot(failed.service, [oldTask])).toMatchObject({
      state: 'pending',
      detail: 'no task created yet',
    });
  });

  test('a forced re-run (ForceUpdate bumped) ignores the completed task of the same image', () => {
    const service = clone(complete.service);
    service.Spec.TaskTemplate.ForceUpdate = 1;
    expect(judgeOneShot(service, complete.tasks).state).toBe('pending');
  });

  test('restart condition none fails on the first failure', () => {
    const service = clone(failed.service);
    service.Spec.TaskTemplate.RestartPolicy = { Condition: 'none' };
    const tasks = [clone(f1)];
    tasks[0].Spec.RestartPolicy = { Condition: 'none' };
    expect(judgeOneShot(service, tasks)).toMatchObject({
      state: 'failed',
      detail: 'failed after 1 run (restart_policy condition: none): failed: task: non-zero exit (3)',
    });
  });

  test('replicated job: only tasks of the current JobIteration count', () => {
    expect(judgeOneShot(job.service, job.tasks).state).toBe('complete');
    expect(tasksOfThisDeploy(job.service, job.tasks)).toHaveLength(1);
    const next = clone(job.service);
    next.JobStatus = { JobIteration: { Index: 2 } };
    expect(judgeOneShot(next, job.tasks)).toMatchObject({ state: 'pending', detail: 'no task created yet' });
  });
});

// Rejected tasks, recorded from the sandbox's Swarm (engine 20.10): one-shot services whose bind mount
// source is missing ("invalid mount config") or whose image is not there ("No such image"). Measured:
// a rejected task is one attempt (the first run plus max_attempts restarts per slot, rejections and
// failures alike); the next task is created at once and started after the restart delay; condition
// none makes no further task; with a window, only restarts created within it before the failure count.
const rejectedThenComplete = load('oneshot-rejected-then-complete'); // max_attempts 6; source appeared
const rejectedExhausted = load('oneshot-rejected-exhausted'); // max_attempts 3; source never appeared
const rejectedNone = load('oneshot-rejected-condition-none');
const rejectedThenFailed = load('oneshot-rejected-then-failed'); // max_attempts 4; then exit 3
const windowExhausted = load('oneshot-rejected-window-exhausted'); // max_attempts 1, window 2s
const windowEndless = load('oneshot-rejected-window-endless'); // max_attempts 1, window 200ms
const noSuchImage = load('oneshot-no-such-image'); // max_attempts 2

const timeKey = (ts: string) => ts.replace(/(?:\.(\d+))?Z$/, (_m, f: string = '') => `.${f.padEnd(9, '0')}Z`);
const byCreation = (r: Recorded) =>
  [...r.tasks].sort((a, b) => (timeKey(a.CreatedAt) < timeKey(b.CreatedAt) ? -1 : 1));
/** The tasks as Swarm listed them when the n-th was just created (and, if given, in state `state`). */
function asOf(r: Recorded, n: number, state?: string): Task[] {
  const tasks = byCreation(r).slice(0, n);
  if (state) {
    tasks[n - 1] = withState(tasks[n - 1], state, { Err: undefined, ContainerStatus: undefined });
    tasks[n - 1].DesiredState = n > 1 ? 'ready' : 'running';
  }
  return tasks;
}
const mountErr = (dir: string) =>
  `rejected: invalid mount config for type "bind": bind source path does not exist: /tmp/${dir}/src`;

describe('judgeOneShot: a rejected task is one failed attempt', () => {
  test.each<[string, Recorded, number]>([
    ['rejected then complete', rejectedThenComplete, 4],
    ['rejected until exhausted', rejectedExhausted, 4],
    ['condition none', rejectedNone, 1],
    ['rejected then failed', rejectedThenFailed, 5],
    ['window, exhausted', windowExhausted, 2],
    ['window, endless', windowEndless, 2],
    ['no such image', noSuchImage, 3],
  ])('recorded %s: every task is of this deploy, in slot 1', (_name, r, count) => {
    expect(tasksOfThisDeploy(r.service, r.tasks)).toHaveLength(count);
    expect(r.tasks.every((t) => t.Slot === 1)).toBe(true);
  });

  test.each<[string, Recorded, Task[], string, string]>([
    // restart_policy on-failure, delay 2s, max_attempts 6 (the book's collectstatic): 7 attempts in all.
    [
      'first attempt preparing',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 1, 'preparing'),
      'pending',
      'preparing',
    ],
    [
      'first attempt rejected',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 1),
      'pending',
      `run 1 of 7 (1 + max_attempts 6): ${mountErr('rej-a')}; Swarm retries`,
    ],
    [
      'second attempt lined up (restart delay)',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 2, 'pending'),
      'pending',
      `run 1 of 7 (1 + max_attempts 6): ${mountErr('rej-a')}; Swarm retries`,
    ],
    [
      'second attempt rejected while it waited',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 2),
      'pending',
      `run 2 of 7 (1 + max_attempts 6): ${mountErr('rej-a')}; Swarm retries`,
    ],
    [
      'three rejected',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 3),
      'pending',
      `run 3 of 7 (1 + max_attempts 6): ${mountErr('rej-a')}; Swarm retries`,
    ],
    [
      'fourth attempt running',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 4, 'running'),
      'pending',
      'running (run 4 of 7, 1 + max_attempts 6)',
    ],
    [
      'fourth attempt complete',
      rejectedThenComplete,
      rejectedThenComplete.tasks,
      'complete',
      `completed with exit code 0 (task ${byCreation(rejectedThenComplete)[3].ID})`,
    ],
    // max_attempts 3: 4 attempts, all rejected.
    [
      '3 of 4 rejected',
      rejectedExhausted,
      asOf(rejectedExhausted, 3),
      'pending',
      `run 3 of 4 (1 + max_attempts 3): ${mountErr('rej-b')}; Swarm retries`,
    ],
    [
      'last attempt lined up',
      rejectedExhausted,
      asOf(rejectedExhausted, 4, 'assigned'),
      'pending',
      `run 3 of 4 (1 + max_attempts 3): ${mountErr('rej-b')}; Swarm retries`,
    ],
    [
      '4 of 4 rejected',
      rejectedExhausted,
      rejectedExhausted.tasks,
      'failed',
      `failed after 4 runs (1 + max_attempts 3): ${mountErr('rej-b')}`,
    ],
    // condition none: no restart, the first rejection is the end.
    ['condition none, preparing', rejectedNone, asOf(rejectedNone, 1, 'preparing'), 'pending', 'preparing'],
    [
      'condition none, rejected',
      rejectedNone,
      rejectedNone.tasks,
      'failed',
      `failed after 1 run (restart_policy condition: none): ${mountErr('rej-c')}`,
    ],
    // max_attempts 4: two rejections, then the source appeared and the command exited 3.
    [
      '2 rejected, third lined up',
      rejectedThenFailed,
      asOf(rejectedThenFailed, 3, 'pending'),
      'pending',
      `run 2 of 5 (1 + max_attempts 4): ${mountErr('rej-e')}; Swarm retries`,
    ],
    [
      '2 rejected, third failed',
      rejectedThenFailed,
      asOf(rejectedThenFailed, 3),
      'pending',
      'run 3 of 5 (1 + max_attempts 4): failed: task: non-zero exit (3); Swarm retries',
    ],
    [
      '5 of 5 used',
      rejectedThenFailed,
      rejectedThenFailed.tasks,
      'failed',
      `failed after 5 runs (1 + max_attempts 4): failed: task: non-zero exit (3); reasons seen: ${mountErr('rej-e')} | failed: task: non-zero exit (3)`,
    ],
    // "No such image" (a registry hiccup) counts the same way; max_attempts 2.
    [
      'no such image once',
      noSuchImage,
      asOf(noSuchImage, 1),
      'pending',
      'run 1 of 3 (1 + max_attempts 2): rejected: node vhg04rvu7gygcyksvcbcat4ar could not pull the image: No such image: 127.0.0.1:5000/rej-missing:1; Swarm retries',
    ],
    [
      'no such image 3 times',
      noSuchImage,
      noSuchImage.tasks,
      'failed',
      'failed after 3 runs (1 + max_attempts 2): rejected: node vhg04rvu7gygcyksvcbcat4ar could not pull the image: No such image: 127.0.0.1:5000/rej-missing:1',
    ],
    // max_attempts 1 within a window: no bound in total, so no "of N".
    [
      'window 2s, first rejected',
      windowExhausted,
      asOf(windowExhausted, 1),
      'pending',
      `run 1 (max_attempts 1 within window 2 s): ${mountErr('rej-d')}; Swarm retries`,
    ],
    [
      'window 2s, restart rejected 1.4s after it was created',
      windowExhausted,
      windowExhausted.tasks,
      'failed',
      `failed after 2 runs (max_attempts 1 within window 2 s): ${mountErr('rej-d')}`,
    ],
    // Swarm kept restarting every 2s (12 tasks in 24s; its reaper keeps max_attempts + 1 = 2 listed).
    [
      'window 200ms, restart rejected 0.56s after it was created',
      windowEndless,
      windowEndless.tasks,
      'pending',
      `run 2 (max_attempts 1 within window 0.2 s): ${mountErr('rej-f')}; Swarm retries`,
    ],
  ])('%s', (_name, r, tasks, state, detail) => {
    expect(judgeOneShot(r.service, tasks)).toMatchObject({ state, detail });
  });

  test('the failure names the newest attempt, the one that used up max_attempts', () => {
    const newest = byCreation(rejectedExhausted)[3];
    expect(judgeOneShot(rejectedExhausted.service, rejectedExhausted.tasks)).toMatchObject({
      state: 'failed',
      task: { ID: newest.ID },
    });
  });

  test('the same two tasks under a 2s window: the restart falls inside it, so Swarm stops', () => {
    const service = clone(windowEndless.service);
    const tasks = clone(windowEndless.tasks);
    for (const spec of [service.Spec.TaskTemplate, ...tasks.map((t) => t.Spec)]) {
      (spec.RestartPolicy as { Window?: number }).Window = 2_000_000_000;
    }
    expect(judgeOneShot(service, tasks)).toMatchObject({
      state: 'failed',
      detail: `failed after 2 runs (max_attempts 1 within window 2 s): ${mountErr('rej-f')}`,
    });
  });

  test('a pending detail stays the same while the next attempt waits out the restart delay', () => {
    const details = ['pending', 'assigned', 'preparing', 'ready'].map(
      (state) => judgeOneShot(rejectedThenComplete.service, asOf(rejectedThenComplete, 2, state)).detail,
    );
    expect(new Set(details)).toEqual(
      new Set([`run 1 of 7 (1 + max_attempts 6): ${mountErr('rej-a')}; Swarm retries`]),
    );
  });

  test.each<[string, Recorded, Task[], ReturnType<typeof oneShotAttempts>]>([
    [
      'rejected then complete',
      rejectedThenComplete,
      rejectedThenComplete.tasks,
      { used: 4, max: 7, reasons: [mountErr('rej-a')] },
    ],
    [
      'while retrying',
      rejectedThenComplete,
      asOf(rejectedThenComplete, 2, 'pending'),
      { used: 2, max: 7, reasons: [mountErr('rej-a')] },
    ],
    [
      'exhausted',
      rejectedExhausted,
      rejectedExhausted.tasks,
      { used: 4, max: 4, reasons: [mountErr('rej-b')] },
    ],
    ['condition none', rejectedNone, rejectedNone.tasks, { used: 1, max: 1, reasons: [mountErr('rej-c')] }],
    [
      'two reasons, oldest first',
      rejectedThenFailed,
      rejectedThenFailed.tasks,
      { used: 5, max: 5, reasons: [mountErr('rej-e'), 'failed: task: non-zero exit (3)'] },
    ],
    [
      'window: no bound',
      windowEndless,
      windowEndless.tasks,
      { used: 2, max: undefined, reasons: [mountErr('rej-f')] },
    ],
    ['no task yet', rejectedThenComplete, [], { used: 0, max: 7, reasons: [] }],
    ['first run complete', complete, complete.tasks, { used: 1, max: 4, reasons: [] }],
  ])('oneShotAttempts: %s', (_name, r, tasks, expected) => {
    expect(oneShotAttempts(r.service, tasks)).toEqual(expected);
  });

  test('a second deploy (changed spec) starts counting again: the old spec’s rejections do not count', () => {
    const service = clone(rejectedExhausted.service);
    service.Spec.TaskTemplate.ForceUpdate = 1;
    const next = withState(byCreation(rejectedExhausted)[0], 'preparing', { Err: undefined });
    next.Spec = { ...clone(next.Spec), ForceUpdate: 1 };
    expect(judgeOneShot(service, [...rejectedExhausted.tasks, next])).toMatchObject({
      state: 'pending',
      detail: 'preparing',
    });
    expect(oneShotAttempts(service, [...rejectedExhausted.tasks, next])).toEqual({
      used: 1,
      max: 4,
      reasons: [],
    });
  });
});

describe('hasCurrentSpec', () => {
  test('a task carries the template without Runtime and empty fields, and still matches', () => {
    expect(hasCurrentSpec(complete.service, complete.tasks[0])).toBe(true);
  });
  test('a changed image does not match', () => {
    const t = clone(complete.tasks[0]);
    t.Spec.ContainerSpec = { ...t.Spec.ContainerSpec, Image: 'other:1' };
    expect(hasCurrentSpec(complete.service, t)).toBe(false);
  });
});

describe('judgeConvergence on recorded Swarm state', () => {
  test('after a completed rolling update, the running task of the new spec converges', () => {
    expect(judgeConvergence(app.service, app.tasks)).toEqual({ state: 'converged', detail: '1/1 running' });
  });

  test('only the old spec running is pending', () => {
    const oldOnly = app.tasks
      .filter((t) => !hasCurrentSpec(app.service, t))
      .map((t) => withState(t, 'running'));
    oldOnly.forEach((t) => (t.DesiredState = 'running'));
    expect(judgeConvergence(app.service, oldOnly)).toMatchObject({ state: 'pending', detail: '0/1 running' });
  });

  test.each([
    ['rollback_started', 'update rollback started: update paused due to failure'],
    ['paused', 'update paused: update paused due to failure'],
    ['rollback_completed', 'update rollback completed: update paused due to failure'],
  ])('UpdateStatus %s is a failure with Swarm’s reason', (state, detail) => {
    const s = clone(app.service);
    s.UpdateStatus = { State: state, Message: 'update paused due to failure' };
    const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
    const crashed = withState(current, 'failed', { Err: 'task: non-zero exit (1)' });
    expect(judgeConvergence(s, app.tasks)).toEqual({ state: 'failed', detail, task: undefined });
    expect(judgeConvergence(s, [...app.tasks, crashed]).task).toBe(crashed);
  });

  test('updating is pending, and a failing task is mentioned', () => {
    const s = clone(app.service);
    s.UpdateStatus = { State: 'updating', Message: 'update in progress' };
    const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
    const tasks = [withState(current, 'failed', { Err: 'task: non-zero exit (1)' })];
    expect(judgeConvergence(s, tasks)).toEqual({
      state: 'pending',
      detail: 'updating, 0/1 running; newest task: failed: task: non-zero exit (1)',
    });
  });

  test('a task that failed before the newest one is not what the detail describes', () => {
    const s = clone(app.service);
    s.UpdateStatus = { State: 'updating', Message: 'update in progress' };
    const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
    const failedFirst = withState(current, 'failed', { Err: 'task: non-zero exit (1)' });
    failedFirst.Status.Timestamp = '2026-01-01T00:00:01.5Z';
    const retry = { ...withState(current, 'starting'), ID: 'retry' };
    retry.Status.Timestamp = '2026-01-01T00:00:02.25Z';
    expect(judgeConvergence(s, [failedFirst, retry]).detail).toBe(
      'updating, 0/1 running; the new task is starting',
    );
  });

  test('a changed spec needs a rolling update of its own, started after the deploy and completed', () => {
    const started = app.service.UpdateStatus!.StartedAt!;
    const s = clone(app.service);
    // Right after the deploy the status still shows the previous update: the new task may be running
    // for a moment before it crashes, so that is not convergence.
    expect(judgeConvergence(s, app.tasks, { previousUpdateStartedAt: started })).toEqual({
      state: 'pending',
      detail: 'waiting for Swarm to start the rolling update',
    });
    s.UpdateStatus = { State: 'updating', StartedAt: '2099-01-01T00:00:00Z' };
    expect(judgeConvergence(s, app.tasks, { previousUpdateStartedAt: started }).state).toBe('pending');
    expect(
      judgeConvergence(app.service, app.tasks, { previousUpdateStartedAt: '2000-01-01T00:00:00Z' }).state,
    ).toBe('converged');
    // A service never updated before: no status until Swarm starts the update, while the old spec runs.
    const first = clone(app.service);
    first.UpdateStatus = null;
    const oldRunning = app.tasks.map((t) =>
      withState(t, hasCurrentSpec(app.service, t) ? 'shutdown' : 'running'),
    );
    expect(judgeConvergence(first, oldRunning, {}).state).toBe('pending');
  });

  test('a changed spec whose update status Swarm cleared (the spec applied again) converges once only the new spec runs', () => {
    const s = clone(app.service);
    s.UpdateStatus = null;
    const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
    const old = app.tasks.find((t) => !hasCurrentSpec(app.service, t))!;
    const expectUpdate = { previousUpdateStartedAt: app.service.UpdateStatus!.StartedAt };
    expect(
      judgeConvergence(s, [withState(old, 'running'), withState(current, 'shutdown')], expectUpdate),
    ).toEqual({ state: 'pending', detail: 'waiting for Swarm to start the rolling update' });
    expect(
      judgeConvergence(s, [withState(old, 'shutdown'), withState(current, 'starting')], expectUpdate).state,
    ).toBe('pending');
    expect(
      judgeConvergence(s, [withState(old, 'shutdown'), withState(current, 'running')], expectUpdate),
    ).toEqual({
      state: 'converged',
      detail: 'no task out of date, so no rolling update',
      unmonitored: true,
    });
  });

  test('a change of placement alone (Swarm leaves the task where it is) converges without an update', () => {
    const s = clone(app.service);
    s.UpdateStatus = null;
    s.Spec.TaskTemplate = { ...s.Spec.TaskTemplate, Placement: { Constraints: ['node.role==manager'] } };
    const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
    const old = app.tasks.find((t) => !hasCurrentSpec(app.service, t))!;
    const tasks = [withState(old, 'shutdown'), withState(current, 'running')];
    expect(judgeConvergence(s, tasks, {}).state).toBe('converged');
    // Anything else changed as well: the task is out of date, and Swarm's update is awaited.
    s.Spec.TaskTemplate = { ...s.Spec.TaskTemplate, ForceUpdate: 7 };
    expect(judgeConvergence(s, tasks, {}).state).toBe('pending');
  });

  test('scaled to 0 converges at once', () => {
    const s = clone(app.service);
    s.Spec.Mode = { Replicated: { Replicas: 0 } };
    expect(judgeConvergence(s, []).state).toBe('converged');
  });
});

describe('waitingFor: what a slow rollout waits for', () => {
  const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
  const old = app.tasks.find((t) => !hasCurrentSpec(app.service, t))!;
  const stopping = { ...withState(old, 'running'), DesiredState: 'shutdown' };

  test('an old task that has not stopped yet (it ignored SIGTERM): its grace period', () => {
    const s = clone(app.service);
    s.Spec.TaskTemplate.ContainerSpec = { ...s.Spec.TaskTemplate.ContainerSpec, StopGracePeriod: 30e9 };
    expect(waitingFor(s, [stopping, withState(current, 'ready')])).toBe(
      'waiting for the old task to stop (it is killed after its stop grace period, 30 s)',
    );
    expect(waitingFor(app.service, [stopping])).toMatch(/stop grace period, 10 s\)$/);
  });

  test('a new task not running yet: scheduling (with why), pulling, its healthcheck', () => {
    const pending = withState(current, 'pending', {
      Err: 'no suitable node (insufficient resources on 1 node)',
    });
    expect(waitingFor(app.service, [pending])).toBe(
      'the new task is waiting for a node: no suitable node (insufficient resources on 1 node)',
    );
    expect(waitingFor(app.service, [withState(current, 'preparing')])).toBe(
      'the new task is preparing (pulling the image)',
    );
    const s = clone(app.service);
    s.Spec.TaskTemplate.ContainerSpec = {
      ...s.Spec.TaskTemplate.ContainerSpec,
      Healthcheck: { Test: ['CMD', 'curl', '-f', 'http://localhost/'] },
    };
    const checked = { ...withState(current, 'starting'), Spec: clone(s.Spec.TaskTemplate) };
    expect(waitingFor(s, [checked])).toBe('the new task is up, waiting for its healthcheck to pass');
  });

  test('nothing to say once the new task runs', () => {
    expect(
      waitingFor(app.service, [withState(current, 'running'), withState(old, 'shutdown')]),
    ).toBeUndefined();
  });

  test('the convergence detail says it', () => {
    const s = clone(app.service);
    s.UpdateStatus = { State: 'updating' };
    expect(judgeConvergence(s, [stopping]).detail).toBe(
      'updating, 0/1 running; waiting for the old task to stop (it is killed after its stop grace period, 10 s)',
    );
  });
});

describe('servesOnlyNewSpec: when the tests may start', () => {
  const current = app.tasks.find((t) => hasCurrentSpec(app.service, t))!;
  const old = app.tasks.find((t) => !hasCurrentSpec(app.service, t))!;

  test('the new spec running, the old one gone: serving (even while Swarm still monitors the update)', () => {
    const s = clone(app.service);
    s.UpdateStatus = { State: 'updating' };
    expect(servesOnlyNewSpec(s, [withState(current, 'running'), withState(old, 'shutdown')])).toBe(true);
  });

  test.each<[string, Task[]]>([
    [
      'an old-spec task still running (start-first)',
      [withState(current, 'running'), withState(old, 'running')],
    ],
    ['the new task only starting', [withState(current, 'starting'), withState(old, 'shutdown')]],
    ['the new task failed', [withState(current, 'failed'), withState(old, 'shutdown')]],
    ['no task at all', []],
  ])('%s: not serving', (_name, tasks) => {
    expect(servesOnlyNewSpec(app.service, tasks)).toBe(false);
  });

  test('fewer running than the replicas wanted: not serving', () => {
    const s = clone(app.service);
    s.Spec.Mode = { Replicated: { Replicas: 2 } };
    expect(servesOnlyNewSpec(s, [withState(current, 'running')])).toBe(false);
  });
});

describe('judgeRollback', () => {
  const rolled = (state: string, startedAt = '2099-01-01T00:00:00Z') => {
    const s = clone(app.service);
    s.UpdateStatus = { State: state, StartedAt: startedAt, Message: 'rollback paused due to failure' };
    return s;
  };
  const before = app.service.UpdateStatus!.StartedAt!;
  test.each<[string, Service, string, string]>([
    ['not started yet', app.service, 'pending', 'waiting for Swarm to start the rollback'],
    ['rolling back', rolled('rollback_started'), 'pending', 'rollback_started'],
    ['paused', rolled('rollback_paused'), 'failed', 'rollback paused: rollback paused due to failure'],
    [
      'completed, previous spec running',
      rolled('rollback_completed'),
      'converged',
      'rolled back, 1/1 running',
    ],
  ])('%s', (_name, service, state, detail) => {
    expect(judgeRollback(service, app.tasks, before)).toMatchObject({ state, detail });
  });
});

describe('judgeOneShot: several slots (replicas, or one per node for global services)', () => {
  /** rejectedExhausted's four rejected tasks (max_attempts 3) in one slot, plus one other task. */
  function twoSlots(mode: Service['Spec']['Mode'], other: Partial<Task>, otherState: string) {
    const service = clone(rejectedExhausted.service);
    service.Spec.Mode = mode;
    const tasks = rejectedExhausted.tasks.map((t) => ({ ...clone(t), NodeID: 'node-a' }));
    const second = { ...withState(byCreation(rejectedThenComplete).at(-1)!, otherState), ...other };
    second.ServiceID = service.ID;
    second.Spec = clone(tasks[0].Spec);
    return { service, tasks: [...tasks, second] };
  }

  test('a replica whose attempts are used up fails the service while another replica still runs', () => {
    const { service, tasks } = twoSlots({ Replicated: { Replicas: 2 } }, { Slot: 2 }, 'running');
    expect(judgeOneShot(service, tasks)).toMatchObject({
      state: 'failed',
      detail: `failed after 4 runs (1 + max_attempts 3): ${mountErr('rej-b')}`,
    });
  });

  test('a global job complete on one node and out of attempts on another has failed', () => {
    const { service, tasks } = twoSlots({ GlobalJob: {} }, { NodeID: 'node-b' }, 'complete');
    expect(judgeOneShot(service, tasks).state).toBe('failed');
  });

  test('a global one-shot complete on one node is pending while another node still runs it', () => {
    const service = clone(complete.service);
    service.Spec.Mode = { Global: {} };
    const done = { ...clone(complete.tasks[0]), NodeID: 'node-a' };
    const running = { ...withState(complete.tasks[0], 'running'), ID: 'other', NodeID: 'node-b' };
    expect(judgeOneShot(service, [done, running]).state).toBe('pending');
    expect(judgeOneShot(service, [done, { ...withState(running, 'complete'), ID: 'other' }]).state).toBe(
      'complete',
    );
  });
});

describe('a task rejected because its node could not pull the image', () => {
  const noSuchImage = load('oneshot-no-such-image');
  const nodes = new Map([[noSuchImage.tasks[0].NodeID!, 'worker-1']]);

  test.each([
    'No such image: 127.0.0.1:5000/todo:abc@sha256:00',
    "pull access denied for todo, repository does not exist or may require 'docker login'",
    'no basic auth credentials',
  ])('%s: said so, naming the node by its hostname', (err) => {
    const tasks = noSuchImage.tasks.map((t) => withState(t, 'rejected', { Err: err }));
    expect(judgeOneShot(noSuchImage.service, tasks, nodes).detail).toBe(
      `failed after 3 runs (1 + max_attempts 2): rejected: node worker-1 could not pull the image: ${err}`,
    );
  });

  test('another rejection is described as before', () => {
    const tasks = noSuchImage.tasks.map((t) => withState(t, 'rejected', { Err: 'invalid mount config' }));
    expect(judgeOneShot(noSuchImage.service, tasks, nodes).detail).toBe(
      'failed after 3 runs (1 + max_attempts 2): rejected: invalid mount config',
    );
  });

  test('judgeConvergence: the newest task of the update, rejected on its node', () => {
    const rejected = withState({ ...app.tasks[1], ID: 'new', NodeID: 'n1' }, 'rejected', {
      Timestamp: '2030-01-01T00:00:00Z',
      Err: 'No such image: x',
    });
    const v = judgeConvergence(app.service, [rejected], undefined, new Map([['n1', 'worker-2']]));
    expect(v.detail).toBe(
      '0/1 running; newest task: rejected: node worker-2 could not pull the image: No such image: x',
    );
  });
});
