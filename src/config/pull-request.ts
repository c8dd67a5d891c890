import { MAX_PORT, parsePort, type Inputs } from './inputs.js';
import { MODES, type Mode } from './modes.js';
import type { PullRequest } from './types.js';

/** The workflow event's pull request, as far as the action reads it. */
export interface PullRequestEvent {
  number?: number;
  head?: { sha?: string };
}

/**
 * A mode run for a pull request (preview, teardown): the pull request (pr-number, or the pull_request
 * event's) and, when the mode deploys its stack, the port the stack publishes on. Undefined in the other
 * modes, or when there is a problem.
 */
export function readPullRequest(
  inputs: Inputs,
  mode: Mode,
  event: PullRequestEvent | undefined,
): PullRequest | undefined {
  if (!MODES[mode].forPullRequest) return undefined;
  const prText = inputs.get('pr-number') || String(event?.number ?? '');
  const number = Number(prText);
  // Only a mode that deploys the stack publishes on a port: teardown ignores preview-port-base (it always has a value).
  const portBaseText = inputs.get('preview-port-base');
  const portBase = parsePort(portBaseText);
  if (!/^[1-9]\d*$/.test(prText)) {
    inputs.problem(
      prText
        ? `pr-number must be a pull request number, not "${prText}"`
        : `pr-number is required in mode ${mode} outside a pull_request event: set pr-number, or run on pull_request`,
    );
    return undefined;
  }
  // The base leaves at least one port above it to publish on.
  if (MODES[mode].deploysPullRequest && (portBase === undefined || portBase === MAX_PORT)) {
    inputs.problem(`preview-port-base must be a TCP port from 1 to 65534, not "${portBaseText}"`);
    return undefined;
  }
  return { number, port: previewPort(portBase ?? NaN, number) };
}

/**
 * PREVIEW_PORT: the base plus the pull request number, wrapping round to base + 1 after 65535 (with
 * the default 20000, pull request 45536 publishes on 20001 like pull request 1).
 */
export function previewPort(base: number, number: number): number {
  return base + ((number - 1) % (MAX_PORT - base)) + 1;
}
