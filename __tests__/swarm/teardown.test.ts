// teardownStack on an engine stood in for: the stack removed and waited for until nothing of it is left.
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import type { DockerCli } from '../../src/runner/docker.js';
import type { Engine } from '../../src/swarm/engine.js';

const warning = jest.fn();
const removeSecrets = jest.fn(async () => ['todo_secret_key_0123456789ab']);
jest.unstable_mockModule('@actions/core', () => ({ warning }));
jest.unstable_mockModule('node:timers/promises', () => ({ setTimeout: async () => {} }));
jest.unstable_mockModule('../../src/swarm/secrets.js', () => ({ removeSecrets }));
const { teardownStack, imageRepositories } = await import('../../src/swarm/teardown.js');

/** A stack whose services and tasks are gone after `polls` looks, then its network and volume can go. */
function fakeSwarm({ polls = 1, taskNodes = ['manager'] } = {}) {
  let looks = 0;
  const removed: string[] = [];
  const tried: string[] = [];
  const services = [{ ID: 's1', Spec: { Name: 'todo_app' } }];
  const engine = {
    nodeId: async () => 'manager',
    listServices: async () => (looks++ < polls ? services : []),
    listTasks: async (filter: { service?: string[] }) =>
      filter.service || looks <= polls
        ? taskNodes.map((NodeID, i) => ({
            ID: `t${i}`,
            ServiceID: 's1',
            NodeID,
            Status: { State: 'running' },
          }))
        : [],
    listNetworks: async () => (removed.includes('todo_default') ? [] : [{ Id: 'n1', Name: 'todo_default' }]),
    listVolumes: async () => (removed.includes('todo_data') ? [] : [{ Name: 'todo_data' }]),
    listContainers: async () => [],
    // Swarm refuses a network or volume that a task still uses.
    remove: async (kind: string, id: string) => {
      const name = kind === 'networks' ? 'todo_default' : id;
      tried.push(name);
      if (looks <= polls) throw new Error(`${name} is in use`);
      removed.push(name);
      return true;
    },
  } as unknown as Engine;
  const run = jest.fn<(args: string[], options: object, allowFailure: boolean) => Promise<object>>(
    async () => ({ exitCode: 0, stdout: '', stderr: '' }),
  );
  return { engine, cli: { run } as unknown as DockerCli, run, removed, tried };
}

beforeEach(() => {
  warning.mockReset();
});

describe('teardownStack', () => {
  test('docker stack rm, then once the tasks are gone its network, its volume and its secrets', async () => {
    const { engine, cli, run, removed, tried } = fakeSwarm({ polls: 2 });
    const result = await teardownStack(cli, engine, 'todo', 60);
    expect(run).toHaveBeenCalledWith(['stack', 'rm', 'todo'], {}, true);
    expect(removed).toEqual(['todo_default', 'todo_data']);
    expect(tried).toEqual(removed);
    expect(result).toMatchObject({
      existed: true,
      services: ['todo_app'],
      networks: ['todo_default'],
      volumes: ['todo_data'],
      secrets: ['todo_secret_key_0123456789ab'],
    });
    expect(warning).not.toHaveBeenCalled();
  });

  test('tasks on other nodes: a warning that their volumes are out of reach', async () => {
    const { engine, cli } = fakeSwarm({ taskNodes: ['manager', 'worker-1'] });
    await teardownStack(cli, engine, 'todo', 60);
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('other nodes (worker-1)'));
  });

  test('a stack still there at the deadline: the error names what is left', async () => {
    const { engine, cli } = fakeSwarm({ polls: Infinity });
    await expect(teardownStack(cli, engine, 'todo', 0)).rejects.toThrow(
      'stack todo was not gone after 0 s (converge-timeout); still there: service todo_app, task t0 (running)',
    );
  });
});

describe('imageRepositories', () => {
  test("the repositories of the services' images tagged with the prefix", async () => {
    const image = (Image: string) => ({ Spec: { TaskTemplate: { ContainerSpec: { Image } } } });
    const engine = {
      listServices: async () => [
        image(`r.example/todo:pr-3-abc@sha256:${'a'.repeat(64)}`),
        image('r.example/team/proxy:pr-3-abc'),
        image('r.example/redis:7'),
      ],
    } as unknown as Engine;
    await expect(imageRepositories(engine, 'todo-pr-3', 'pr-3-')).resolves.toEqual(['team/proxy', 'todo']);
  });
});
