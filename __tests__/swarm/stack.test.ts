import fs from 'node:fs';
import { describe, expect, jest, test } from '@jest/globals';
import type { DockerCli } from '../../src/runner/docker.js';
import { CommandError, type RunResult } from '../../src/runner/exec.js';
import type { Engine, Service, Task } from '../../src/swarm/engine.js';

const info = jest.fn();
const debug = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ info, debug }));
const {
  deployStack,
  describeStack,
  forceUnchanged,
  snapshotStack,
  stackServicesToWait,
  waitConverged,
  waitOneShot,
  WaitTimeout,
} = await import('../../src/swarm/stack.js');

const recorded = (name: string) =>
  JSON.parse(fs.readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as {
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

describe('a node that cannot pull the image', () => {
  const noSuchImage = recorded('oneshot-no-such-image');
  const node = noSuchImage.tasks[0].NodeID!;

  test('the detail names the node by its hostname; the nodes are listed only once a pull failed', async () => {
    const engine = replayingEngine([noSuchImage.service], [[], noSuchImage.tasks]);
    const listNodes = jest.fn(async () => [{ ID: node, Description: { Hostname: 'worker-1' } }]);
    Object.assign(engine, { listNodes });
    const [result] = await waitOneShot(engine, [noSuchImage.service.Spec.Name], 30);
    expect(result.verdict).toMatchObject({
      state: 'failed',
      detail:
        'failed after 3 runs (1 + max_attempts 2): rejected: node worker-1 could not pull the image: No such image: 127.0.0.1:5000/rej-missing:1',
    });
    expect(listNodes).toHaveBeenCalledTimes(1);
  });

  test('a convergence wait says so too, with the node ID when the nodes cannot be listed', async () => {
    const rejected = {
      ...app.tasks[1],
      ID: 'new',
      DesiredState: 'running',
      Status: { Timestamp: '2030-01-01T00:00:00Z', State: 'rejected', Err: 'no basic auth credentials' },
    };
    const engine = replayingEngine([app.service], [[rejected]]);
    Object.assign(engine, { listNodes: jest.fn(async () => Promise.reject(new Error('down'))) });
    await expect(waitConverged(engine, ['todo_app'], 0, new Map())).rejects.toThrow(
      `newest task: rejected: node ${rejected.NodeID} could not pull the image: no basic auth credentials`,
    );
  });
});

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
    expect(said).toContain(
      'todo_migrate: pending: run 1 of 4 (1 + max_attempts 3): failed: task: non-zero exit (3); Swarm retries',
    );
    expect(debug).toHaveBeenCalledWith(expect.stringMatching(/: 5 polls, 10 Engine API calls$/));
  });

  test('a timeout says what it waited for and what it last saw, as a WaitTimeout', async () => {
    const engine = replayingEngine([failed.service], [sorted.slice(0, 1)]);
    const waited = waitOneShot(engine, [failed.service.Spec.Name], 1);
    await expect(waited).rejects.toThrow(
      'timed out after 1s waiting for one-shot service(s) todo_migrate to complete; last seen: todo_migrate: run 1 of 4 (1 + max_attempts 3): failed: task: non-zero exit (3); Swarm retries',
    );
    await expect(waited).rejects.toBeInstanceOf(WaitTimeout);
  });

  test('the first failure ends the wait, while another one-shot still runs; each poll is seen', async () => {
    const other = recorded('migrate-complete');
    other.service.Spec.Name = 'todo_collectstatic';
    const running = other.tasks.map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
    const engine = replayingEngine([failed.service, other.service], [[...sorted, ...running]]);
    const seen: string[][] = [];
    const results = await waitOneShot(engine, ['todo_migrate', 'todo_collectstatic'], 30, {
      onResults: (r) => seen.push(r.map((w) => w.verdict.state)),
    });
    expect(results.map((r) => [r.service.Spec.Name, r.verdict.state])).toEqual([
      ['todo_migrate', 'failed'],
      ['todo_collectstatic', 'pending'],
    ]);
    expect(seen).toEqual([['failed', 'pending']]);
    expect(results[0].verdict.attempts).toEqual({
      used: 4,
      max: 4,
      reasons: ['failed: task: non-zero exit (3)'],
    });
  });

  test('a one-shot service missing after the deploy is an error', async () => {
    const engine = replayingEngine([], [[]]);
    await expect(waitOneShot(engine, ['todo_seed'], 5)).rejects.toThrow(
      'service todo_seed is not in the swarm after the deploy',
    );
  });
});

describe('stack listing', () => {
  const named = (name: string, mode: Service['Spec']['Mode'] = app.service.Spec.Mode) =>
    ({ ...app.service, Spec: { ...app.service.Spec, Name: name, Mode: mode } }) as Service;

  test('long-running services leave out one-shots and jobs', async () => {
    const job = named('todo_job', { ReplicatedJob: {} });
    const engine = replayingEngine([app.service, failed.service, job], [[]]);
    expect(await stackServicesToWait(engine, 'todo', ['app', 'migrate', 'job'], ['todo_migrate'])).toEqual({
      longRunning: ['todo_app'],
      leftover: [],
    });
    expect(engine.listServices).toHaveBeenCalledWith({ label: ['com.docker.stack.namespace=todo'] });
  });

  test('a service of the stack that the stack file no longer has is a leftover, not waited for', async () => {
    const engine = replayingEngine([app.service, failed.service, named('todo_collectstatic')], [[]]);
    expect(await stackServicesToWait(engine, 'todo', ['app', 'migrate'], ['todo_migrate'])).toEqual({
      longRunning: ['todo_app'],
      leftover: ['todo_collectstatic'],
    });
  });

  test("describeStack: a one-shot's update state is not shown, a leftover says so", async () => {
    const engine = replayingEngine([app.service, failed.service, named('todo_old')], [app.tasks]);
    const rows = await describeStack(engine, 'todo', {
      oneShot: ['todo_migrate'],
      inFile: ['app', 'migrate'],
    });
    expect(rows.map((r) => [r.name, r.update])).toEqual([
      ['todo_app', 'completed'],
      ['todo_migrate', 'one-shot'],
      ['todo_old', 'not in stack-file'],
    ]);
  });

  test('describeStack shows running/desired and the image with the start of the digest it runs', async () => {
    const engine = replayingEngine([app.service], [app.tasks]);
    expect(await describeStack(engine, 'todo')).toEqual([
      {
        name: 'todo_app',
        mode: 'Replicated',
        tasks: '1/1',
        image: '127.0.0.1:5000/todobackend:t3@sha256:c645423263ab',
        update: 'completed',
      },
    ]);
  });
});

describe('deployStack', () => {
  /**
   * A CLI whose `stack deploy --help` is the one recorded from a real docker CLI of that version (20.10's
   * stands for every CLI before 26, which has no --detach).
   */
  function cli(version: string) {
    const help = fs.readFileSync(
      new URL(`../fixtures/cli/stack-deploy-help-${version}.txt`, import.meta.url),
      'utf8',
    );
    const stack = jest.fn<(args: string[], variables?: Record<string, string>) => Promise<RunResult>>(
      async (args) => ({ stdout: args.includes('--help') ? help : '', stderr: '', exitCode: 0 }),
    );
    return { cli: { stack } as unknown as DockerCli, run: stack };
  }
  type Run = ReturnType<typeof cli>['run'];
  const deployArgs = (run: Run) => run.mock.calls.map((c) => c[0]).find((a) => !a.includes('--help'));

  test.each([
    [
      '28.2',
      [
        'deploy',
        '--with-registry-auth',
        '--resolve-image',
        'always',
        '--detach=true',
        '-c',
        'stack.json',
        'todo',
      ],
    ],
    ['20.10', ['deploy', '--with-registry-auth', '--resolve-image', 'always', '-c', 'stack.json', 'todo']],
  ])(
    'CLI %s: --detach=true only where the CLI has the flag; the variables the file was rendered with',
    async (version, expected) => {
      const { cli: manager, run } = cli(version);
      await deployStack(manager, 'todo', 'stack.json', { APP_VERSION: 'abc1234' });
      expect(deployArgs(run)).toEqual(expected);
      expect(run.mock.calls.find((c) => !c[0].includes('--help'))?.[1]).toEqual({ APP_VERSION: 'abc1234' });
    },
  );

  test('"update out of sequence" (Swarm changed a service meanwhile, e.g. paused a failed update) is retried', async () => {
    const { cli: manager, run } = cli('20.10');
    const outOfSequence =
      'failed to update service todo_migrate: Error response from daemon: rpc error: code = Unknown desc = update out of sequence';
    let deploys = 0;
    run.mockImplementation(async (args) => {
      if (args.includes('--help')) return { stdout: '', stderr: '', exitCode: 0 };
      if (++deploys === 1)
        throw new CommandError('docker stack', { stdout: '', stderr: outOfSequence, exitCode: 1 });
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    await deployStack(manager, 'todo', 'stack.json', {});
    expect(deploys).toBe(2);
  });

  test('any other failure of docker stack deploy is not retried', async () => {
    const { cli: manager, run } = cli('20.10');
    let deploys = 0;
    run.mockImplementation(async (args) => {
      if (args.includes('--help')) return { stdout: '', stderr: '', exitCode: 0 };
      deploys++;
      throw new CommandError('docker stack', {
        stdout: '',
        stderr: 'network todo_default not found',
        exitCode: 1,
      });
    });
    await expect(deployStack(manager, 'todo', 'stack.json', {})).rejects.toThrow(
      'network todo_default not found',
    );
    expect(deploys).toBe(1);
  });

  test.each(['28.2', '20.10'])(
    'CLI %s: every image pinned by the action: --resolve-image never, the registry is not asked',
    async (version) => {
      const { cli: manager, run } = cli(version);
      await deployStack(manager, 'todo', 'stack.json', {}, { resolveImage: 'never' });
      expect(deployArgs(run)?.slice(1, 4)).toEqual(['--with-registry-auth', '--resolve-image', 'never']);
    },
  );

  test('a one-shot whose spec is unchanged is forced to run again without asking the registry', async () => {
    const run = jest.fn<(args: string[]) => Promise<RunResult>>(async () => ({
      stdout: '',
      stderr: '',
      exitCode: 0,
    }));
    const engine = { inspectService: async () => failed.service } as unknown as Engine;
    const before = await snapshotStack(
      { listServices: async () => [failed.service] } as unknown as Engine,
      'todo',
    );
    await forceUnchanged({ run } as unknown as DockerCli, engine, [failed.service.Spec.Name], before);
    expect(run.mock.calls[0][0]).toEqual([
      'service',
      'update',
      '--force',
      '--detach',
      '--with-registry-auth',
      '--no-resolve-image',
      '--quiet',
      failed.service.Spec.Name,
    ]);
  });

  test('prune: --prune', async () => {
    const { cli: manager, run } = cli('20.10');
    await deployStack(manager, 'todo', 'stack.json', {}, { prune: true });
    expect(deployArgs(run)).toEqual([
      'deploy',
      '--with-registry-auth',
      '--resolve-image',
      'always',
      '--prune',
      '-c',
      'stack.json',
      'todo',
    ]);
  });
});
