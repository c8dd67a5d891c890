import fs from 'node:fs';
import { describe, expect, jest, test } from '@jest/globals';
import type { Engine, Service, Task } from '../src/engine.js';

const info = jest.fn();
const debug = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ info, debug }));
const { waitOneShot, longRunningServices, describeStack, stackServiceName } = await import('../src/swarm.js');

const recorded = (name: string) =>
  JSON.parse(fs.readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as {
    service: Service;
    tasks: Task[];
  };
const failed = recorded('migrate-failed');
const app = recorded('app-updated');
const sorted = [...failed.tasks].sort((a, b) => (a.Status.Timestamp < b.Status.Timestamp ? -1 : 1));

/** An engine whose task list grows by one recorded task per poll. */
function replayingEngine(services: Service[], polls: Task[][]) {
  let i = 0;
  const engine = {
    calls: 0,
    fork: () => engine,
    listServices: jest.fn(async () => {
      engine.calls++;
      return services;
    }),
    listTasks: jest.fn(async () => {
      engine.calls++;
      return polls[Math.min(i++, polls.length - 1)];
    }),
  };
  return engine as unknown as Engine & { listTasks: jest.Mock; listServices: jest.Mock };
}

describe('waitOneShot', () => {
  test('follows the attempts and stops at the failure that uses up max_attempts, one task call per poll', async () => {
    const polls = [[], sorted.slice(0, 1), sorted.slice(0, 2), sorted.slice(0, 3), sorted];
    const engine = replayingEngine([failed.service], polls);
    const [result] = await waitOneShot(engine, [failed.service.Spec.Name], 30);
    expect(result.verdict.state).toBe('failed');
    expect(engine.listTasks).toHaveBeenCalledTimes(5);
    expect(engine.listServices).toHaveBeenCalledTimes(5);
    expect(engine.listTasks.mock.calls[0]).toEqual([{ service: [failed.service.ID] }]);
    const said = info.mock.calls.map((c) => c[0] as string);
    expect(said).toContain('todo_migrate: pending: no task created yet');
    expect(said).toContain('todo_migrate: pending: failed: task: non-zero exit (3) (attempt 2 of 4)');
    expect(debug).toHaveBeenCalledWith(expect.stringMatching(/: 5 polls, 10 Engine API calls$/));
  });

  test('a timeout says what it waited for and what it last saw', async () => {
    const engine = replayingEngine([failed.service], [sorted.slice(0, 1)]);
    await expect(waitOneShot(engine, [failed.service.Spec.Name], 1)).rejects.toThrow(
      'timed out after 1s waiting for one-shot service(s) todo_migrate to complete; last seen: todo_migrate: failed: task: non-zero exit (3) (attempt 2 of 4)',
    );
  });

  test('a one-shot service missing after the deploy is an error', async () => {
    const engine = replayingEngine([], [[]]);
    await expect(waitOneShot(engine, ['todo_seed'], 5)).rejects.toThrow(
      'service todo_seed is not in the swarm after the deploy',
    );
  });
});

describe('stack listing', () => {
  test('long-running services leave out one-shots and jobs', async () => {
    const job = {
      ...app.service,
      Spec: { ...app.service.Spec, Name: 'todo_job', Mode: { ReplicatedJob: {} } },
    };
    const engine = replayingEngine([app.service, failed.service, job as Service], [[]]);
    expect(await longRunningServices(engine, 'todo', ['todo_migrate'])).toEqual(['todo_app']);
    expect(engine.listServices).toHaveBeenCalledWith({ label: ['com.docker.stack.namespace=todo'] });
  });

  test('describeStack shows running/desired and the image without its digest', async () => {
    const engine = replayingEngine([app.service], [app.tasks]);
    expect(await describeStack(engine, 'todo')).toEqual([
      {
        name: 'todo_app',
        mode: 'Replicated',
        tasks: '1/1',
        image: '127.0.0.1:5000/todobackend:t3',
        update: 'completed',
      },
    ]);
  });

  test('stack service names', () => {
    expect(stackServiceName('todobackend', 'migrate')).toBe('todobackend_migrate');
  });
});
