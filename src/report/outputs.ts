import { stackServiceName } from '../naming.js';
import type { Report, ServiceResult, ServiceState } from './summary.js';

export type OneShotState = 'complete' | 'failed' | 'timed-out' | 'unfinished' | 'not-run';

/** A one-shot service's outcome, as the one-shots output gives it. */
export interface OneShotOutcome {
  result: OneShotState;
  /** The runs Swarm made of it (a rejected task is a run, as Swarm counts it). */
  runs?: number;
  /** The most runs its restart policy allows: the first run plus max_attempts. */
  'max-runs'?: number;
}

/**
 * A one-shot's result for the state its wait left it in. Every state has one, so a new state does not
 * compile until it is given its result here. A one-shot's wait never leaves it pending (that becomes
 * unfinished or timed-out) nor converged (a long-running service's state): those count as failed.
 */
const RESULT_OF_STATE: Record<ServiceState, OneShotState> = {
  complete: 'complete',
  unfinished: 'unfinished',
  failed: 'failed',
  pending: 'failed',
  converged: 'failed',
};

/**
 * Each one-shot's outcome, by its name in the stack file: the wait's result, timed-out when the wait
 * ran out of time before its verdict, unfinished when it was still running as the run ended early
 * (another one-shot or the rollout failed), not-run when the run ended before it was seen.
 */
export function oneShotOutcomes(
  stack: string,
  names: string[],
  results: ServiceResult[],
  timedOut: boolean,
): Record<string, OneShotOutcome> {
  const outcomes: Record<string, OneShotOutcome> = {};
  for (const name of names) {
    const result = results.find((r) => r.service === stackServiceName(stack, name));
    if (!result) {
      outcomes[name] = { result: timedOut ? 'timed-out' : 'not-run' };
      continue;
    }
    outcomes[name] = {
      result: RESULT_OF_STATE[result.state],
      runs: result.attempts?.used,
      ...(result.attempts?.max ? { 'max-runs': result.attempts.max } : {}),
    };
  }
  return outcomes;
}

/**
 * The migrate output: the outcome of the one-shot named migrate, else of the only one-shot, else of
 * them all (the first of failed, timed-out, unfinished, not-run that any has, or complete); none without
 * one-shots.
 */
export function migrateOutput(outcomes: Record<string, OneShotOutcome>): string {
  const names = Object.keys(outcomes);
  if (names.length === 0) return 'none';
  const own = outcomes.migrate ?? (names.length === 1 ? outcomes[names[0]] : undefined);
  if (own) return own.result;
  const states = names.map((n) => outcomes[n].result);
  return (
    (['failed', 'timed-out', 'unfinished', 'not-run'] as const).find((s) => states.includes(s)) ?? 'complete'
  );
}

/**
 * Every output of the step, from the run's record: what it deployed (once the registry was known),
 * the tests' counts, the one-shots' outcomes, and a preview's Deployment.
 */
export function stepOutputs(
  report: Report,
  oneShotNames: string[],
  deploymentId?: number,
): Record<string, string> {
  const outcomes = oneShotOutcomes(
    report.stack ?? '',
    oneShotNames,
    report.oneShots,
    report.oneShotsTimedOut ?? false,
  );
  const outputs: Record<string, string | number | undefined> = {
    ...(report.image
      ? {
          image: report.image,
          tag: report.tag,
          registry: report.registry,
          stack: report.stack,
          url: report.url,
        }
      : {}),
    digest: report.digest,
    images: report.images
      ? JSON.stringify(
          report.images.map(({ reference, digest, services }) => ({ reference, digest, services })),
        )
      : undefined,
    'promoted-tags': report.promoted?.join(','),
    'tests-passed-count': report.acceptance?.passed,
    'tests-failed-count': report.acceptance?.failed,
    migrate: migrateOutput(outcomes),
    'one-shots': JSON.stringify(outcomes),
    'deployment-id': deploymentId,
  };
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
