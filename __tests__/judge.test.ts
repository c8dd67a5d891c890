import fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { Service, Task } from '../src/engine.js';
import {
  hasCurrentSpec,
  judgeConvergence,
  judgeOneShot,
  judgeRollback,
  servesOnlyNewSpec,
  tasksOfThisDeploy,
} from '../src/judge.js';

// Service and task JSON recorded from the sandbox's Swarm (engine 20.10, API 1.41).
interface Recorded {
  service: Service;
  tasks: Task[];
}
const load = (name: string): Recorded =>
  JSON.parse(fs.readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Recorded;

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
      detail: 'failed after 4 attempts: failed: task: non-zero exit (3)',
    });
    const newest = [...failed.tasks].sort((x, y) => (x.Status.Timestamp < y.Status.Timestamp ? 1 : -1))[0];
    expect(v.state === 'failed' && v.task?.ID).toBe(newest.ID);
  });

  const [f1, f2, f3] = [...failed.tasks].sort((x, y) => (x.Status.Timestamp < y.Status.Timestamp ? -1 : 1));
  test.each<[string, Task[], string, RegExp]>([
    ['no task yet', [], 'pending', /no task created yet/],
    ['first attempt running', [withState(f1, 'running', { Err: undefined })], 'pending', /^running$/],
    ['one failure, restart not created yet', [f1], 'pending', /attempt 2 of 4/],
    [
      'three failures and a running fourth attempt',
      [f1, f2, f3, withState(f3, 'starting', { Err: undefined })],
      'pending',
      /starting \(attempt 4 of 4\)/,
    ],
    [
      'two failures then complete',
      [f1, f2, withState(f3, 'complete', { Err: undefined })],
      'complete',
      /exit code 0/,
    ],
    [
      'rejected task',
      [withState(f1, 'rejected', { Err: 'No such image: x' })],
      'failed',
      /rejected: No such image: x/,
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
      detail: 'failed after 1 attempt: failed: task: non-zero exit (3)',
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
      detail: 'updating, 0/1 running; last failure: failed: task: non-zero exit (1)',
    });
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
    const first = clone(app.service);
    first.UpdateStatus = null;
    expect(judgeConvergence(first, app.tasks, {}).state).toBe('pending');
    expect(judgeConvergence(first, app.tasks).state).toBe('converged');
  });

  test('scaled to 0 converges at once', () => {
    const s = clone(app.service);
    s.Spec.Mode = { Replicated: { Replicas: 0 } };
    expect(judgeConvergence(s, []).state).toBe('converged');
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
