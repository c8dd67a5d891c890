import type { Inputs } from './inputs.js';
import type { Mode, PullRequest } from './types.js';

/** The workflow event's pull request, as far as the action reads it. */
export interface PullRequestEvent {
  number?: number;
  head?: { sha?: string };
}

/**
 * preview and teardown: the pull request (pr-number, or the pull_request event's) and, for a preview,
 * the port its stack publishes on. Undefined in the other modes, or when there is a problem.
 */
export function readPullRequest(
  inputs: Inputs,
  mode: Mode,
  event: PullRequestEvent | undefined,
): PullRequest | undefined {
  if (mode !== 'preview' && mode !== 'teardown') return undefined;
  const prText = inputs.get('pr-number') || String(event?.number ?? '');
  const number = Number(prText);
  // Only a preview publishes on a port: teardown ignores preview-port-base (it always has a value).
  const portBaseText = inputs.get('preview-port-base');
  const portBase = Number(portBaseText);
  if (!/^[1-9]\d*$/.test(prText)) {
    inputs.problem(
      prText
        ? `pr-number must be a pull request number, not "${prText}"`
        : `pr-number is required in mode ${mode} outside a pull_request event: set pr-number, or run on pull_request`,
    );
    return undefined;
  }
  if (mode === 'preview' && (!/^\d+$/.test(portBaseText) || portBase < 1 || portBase + number > 65535)) {
    inputs.problem(
      `preview-port-base "${portBaseText}" plus pull request number ${number} is not a TCP port (1-65535): lower preview-port-base`,
    );
    return undefined;
  }
  return { number, port: portBase + number };
}
