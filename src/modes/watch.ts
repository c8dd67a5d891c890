/**
 * The rollout's order of events, apart from Swarm: the one-shots and the long-running services'
 * convergence are watched at once; the tests start when the one-shots are done and every service
 * serves only its new spec, while Swarm's update monitor may still roll an update back; the verdict
 * waits for both. The first failure of either wait ends both. On a failure, rollback (if asked for).
 */
export interface RolloutWatchers {
  /** Resolves when every one-shot completed; rejects on the first failure or at its timeout. */
  oneShots(signal: AbortSignal): Promise<void>;
  /** Resolves when every service converged; calls serving() once all serve only their new spec. */
  converge(signal: AbortSignal, serving: () => void): Promise<void>;
  /** The acceptance tests; rejects when they fail. */
  tests(): Promise<void>;
  /** Puts the changed services back; returns what to add to the failure's message. */
  rollback?(): Promise<string>;
}

export async function watchRollout(w: RolloutWatchers): Promise<void> {
  try {
    await watch(w);
  } catch (e) {
    if (!w.rollback) throw e;
    const rolledBack = await w.rollback();
    throw new Error(`${(e as Error).message}\n${rolledBack}`, { cause: e });
  }
}

async function watch(w: RolloutWatchers): Promise<void> {
  const stop = new AbortController();
  let serving!: () => void;
  const servingNow = new Promise<void>((resolve) => (serving = resolve));
  const converge = w.converge(stop.signal, serving);
  const oneShots = w.oneShots(stop.signal);
  try {
    await Promise.all([oneShots, Promise.race([servingNow, converge])]);
  } catch (e) {
    stop.abort();
    await Promise.allSettled([oneShots, converge]);
    throw e;
  }
  // A failed update is the cause of whatever the tests saw, so it is reported first.
  const [converged, tested] = await Promise.allSettled([converge, w.tests()]);
  if (converged.status === 'rejected') throw converged.reason;
  if (tested.status === 'rejected') throw tested.reason;
}
