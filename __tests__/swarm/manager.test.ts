import { describe, expect, test } from '@jest/globals';
import { managerProblem, type EngineGet } from '../../src/swarm/manager.js';

/** An engine that answers /info and /nodes/ID as given. */
function engine(info: unknown, node?: { status: number; body: unknown }): EngineGet {
  return async (path) => {
    if (path === '/info') return { status: 200, body: JSON.stringify(info) };
    if (path === '/nodes/n1' && node) return { status: node.status, body: JSON.stringify(node.body) };
    return { status: 404, body: '{"message":"page not found"}' };
  };
}

const manager = { Swarm: { LocalNodeState: 'active', ControlAvailable: true, NodeID: 'n1' } };

describe('managerProblem: only a reachable manager of a swarm will do', () => {
  test('a reachable manager', async () => {
    const reachable = { status: 200, body: { ManagerStatus: { Reachability: 'reachable', Leader: true } } };
    expect(await managerProblem(engine(manager, reachable))).toBeUndefined();
  });

  test.each<[string, EngineGet, string]>([
    [
      'an engine outside any swarm',
      engine({ Swarm: { LocalNodeState: 'inactive' } }),
      'its engine is not in a swarm (inactive)',
    ],
    [
      'a worker',
      engine({ Swarm: { LocalNodeState: 'active', ControlAvailable: false, NodeID: 'n1' } }),
      'it is a worker, not a manager',
    ],
    [
      'a manager of a swarm without a leader (quorum lost)',
      engine(manager, {
        status: 503,
        body: { message: 'rpc error: code = Unknown desc = The swarm does not have a leader.' },
      }),
      'the swarm does not answer through it (HTTP 503: rpc error: code = Unknown desc = The swarm does not have a leader.)',
    ],
    [
      'a manager the swarm finds unreachable',
      engine(manager, { status: 200, body: { ManagerStatus: { Reachability: 'unreachable' } } }),
      'the swarm finds it unreachable',
    ],
    [
      'an engine that refuses /info',
      async () => ({ status: 403, body: '{"message":"authorization denied"}' }),
      'its engine answered /info with HTTP 403: authorization denied',
    ],
  ])('%s', async (_name, get, problem) => {
    expect(await managerProblem(get)).toBe(problem);
  });
});
