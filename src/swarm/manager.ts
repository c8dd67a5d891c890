/** An HTTP GET on a Docker engine's API: the status and the body. */
export type EngineGet = (path: string) => Promise<{ status: number; body: string }>;

function message(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.trim();
  } catch {
    return body.trim();
  }
}

/**
 * Why a manager's answer (HTTP status, the engine's message) means the swarm cannot be served through
 * it now, or undefined when it does not: the swarm has no leader (a swarm elects one only while more
 * than half of its managers are online; while it elects one, managers answer nothing at all, in the
 * sandbox), or the engine is no longer a manager.
 */
export function swarmUnavailable(status: number, engineMessage: string): string | undefined {
  if (status >= 500 && /does not have a leader/.test(engineMessage))
    return 'the swarm has no leader: it has lost its quorum (half or more of its managers are out of reach), or is electing one';
  if (status === 503 && /not a swarm manager/.test(engineMessage)) return engineMessage;
  return undefined;
}

/**
 * Why an engine is not a Swarm manager to deploy through, or undefined when it is one: in a swarm, a
 * manager (ControlAvailable), and one the swarm answers through (a leader is elected) and finds
 * reachable.
 */
export async function managerProblem(get: EngineGet): Promise<string | undefined> {
  const info = await get('/info');
  if (info.status !== 200) return `its engine answered /info with HTTP ${info.status}: ${message(info.body)}`;
  const swarm =
    (
      JSON.parse(info.body) as {
        Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string };
      }
    ).Swarm ?? {};
  if (swarm.LocalNodeState !== 'active')
    return `its engine is not in a swarm (${swarm.LocalNodeState || 'inactive'})`;
  if (!swarm.ControlAvailable) return 'it is a worker, not a manager';
  const node = await get(`/nodes/${swarm.NodeID}`);
  if (node.status !== 200)
    return (
      swarmUnavailable(node.status, message(node.body)) ??
      `the swarm does not answer through it (HTTP ${node.status}: ${message(node.body)})`
    );
  const reachability = (JSON.parse(node.body) as { ManagerStatus?: { Reachability?: string } }).ManagerStatus
    ?.Reachability;
  return reachability === 'reachable' ? undefined : `the swarm finds it ${reachability ?? 'not a manager'}`;
}
