import { describe, expect, test } from '@jest/globals';
import { managerProblem, swarmUnavailable, type EngineGet } from '../../src/swarm/manager.js';

/** An engine that answers /info and /nodes/ID as given. */
function engine(info: unknown, node?: { status: number; body: unknown }): EngineGet {
  return async (path) => {
    if (path === '/info') return { status: 200, body: JSON.stringify(info) };
    if (path === '/nodes/n1' && node) return { status: node.status, body: JSON.stringify(node.body) };
    return { status: 404, body: '{"message":"page not found"}' };
  };
}

const NO_LEADER =
  "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";
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
      // As a 20.10 manager answers once two of three managers are gone.
      'a manager of a swarm without a leader (quorum lost)',
      engine(manager, { status: 500, body: { message: NO_LEADER } }),
      'the swarm has no leader: it has lost its quorum (half or more of its managers are out of reach), or is electing one',
    ],
    [
      'a manager the swarm does not answer through otherwise',
      engine(manager, { status: 500, body: { message: 'context deadline exceeded' } }),
      'the swarm does not answer through it (HTTP 500: context deadline exceeded)',
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

describe('swarmUnavailable: answers that mean the swarm cannot be served through this manager now', () => {
  test('no leader (500 or 503), and an engine that is no longer a manager (503)', () => {
    expect(swarmUnavailable(500, NO_LEADER)).toMatch(/^the swarm has no leader: it has lost its quorum/);
    expect(swarmUnavailable(503, NO_LEADER)).toMatch(/^the swarm has no leader/);
    expect(swarmUnavailable(503, 'This node is not a swarm manager.')).toBe(
      'This node is not a swarm manager.',
    );
  });

  test("any other answer is the call's own error", () => {
    expect(swarmUnavailable(500, 'rpc error: code = Unknown desc = update out of sequence')).toBeUndefined();
    expect(swarmUnavailable(404, 'service app not found')).toBeUndefined();
    expect(swarmUnavailable(400, 'The swarm does not have a leader')).toBeUndefined();
  });
});
