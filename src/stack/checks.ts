import { stackServiceName, SERVICE_NAME_MAX } from '../naming.js';
import { isJobMode } from '../service-mode.js';
import { serviceNames, type StackDoc } from './document.js';
import { previewPolicyProblems, type PreviewContext } from './preview-policy.js';

/** What a rendered stack is checked against: the run's stack, image and one-shots, and a preview's policy. */
export interface StackExpectations {
  stackName: string;
  /** The stack file(s), for messages. */
  files: string[];
  oneShotServices: string[];
  oneShotsFirst: boolean;
  preview?: PreviewContext;
}

/** A finding of the preview policy, as the step reports it. */
export const previewFinding = (files: string[], problem: string): string =>
  `${stackFiles(files)} in a preview (a pull request's stack on your swarm): ${problem}; see preview-allow`;

const stackFiles = (files: string[]) => `stack-file ${files.map((f) => `"${f}"`).join(' + ')}`;

/**
 * What keeps the rendered stack from being deployed as the run means to: one line per problem, each
 * naming stack-file (or the input to change) and the fix.
 */
export function stackProblems(doc: StackDoc, expect: StackExpectations): string[] {
  const named = stackFiles(expect.files);
  const services = serviceNames(doc);
  if (services.length === 0) return [`${named} has no services`];
  const problems: string[] = [];
  problems.push(...oneShotProblems(doc, expect, named));
  const tooLong = services
    .map((s) => stackServiceName(expect.stackName, s))
    .filter((name) => name.length > SERVICE_NAME_MAX);
  if (tooLong.length > 0)
    problems.push(
      `stack-name "${expect.stackName}" makes service names longer than the ${SERVICE_NAME_MAX} characters Swarm accepts (${tooLong.join(', ')}): shorten stack-name`,
    );
  if (expect.preview)
    for (const problem of previewPolicyProblems(doc, expect.preview))
      problems.push(previewFinding(expect.files, problem));
  return problems;
}

/** Each one-shot is in the stack and can finish: no restart after it succeeds (or a job). */
function oneShotProblems(doc: StackDoc, expect: StackExpectations, named: string): string[] {
  const problems: string[] = [];
  for (const name of expect.oneShotServices) {
    const service = doc.services[name];
    if (!service) {
      problems.push(
        `${named} has no service "${name}" (named in one-shot-services); set one-shot-services to your one-shot services, or none`,
      );
      continue;
    }
    const condition = service.deploy?.restart_policy?.condition;
    const job = isJobMode(service.deploy?.mode);
    if (!job && condition !== 'on-failure' && condition !== 'none')
      problems.push(
        `${named}: one-shot service "${name}" restarts even after it succeeds; give it deploy.restart_policy.condition: on-failure (or deploy.mode: replicated-job)`,
      );
    // one-shots-first deploys the one-shots, then the whole stack: Swarm runs a job again on every deploy.
    if (expect.oneShotsFirst && job)
      problems.push(
        `one-shots-first: true would run job "${name}" twice (Swarm runs a job again on every docker stack deploy): give it deploy.restart_policy.condition: on-failure instead of deploy.mode: replicated-job, or remove one-shots-first`,
      );
  }
  return problems;
}
