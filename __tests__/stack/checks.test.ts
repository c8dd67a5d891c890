// The checks every rollout runs on docker's rendering: the run's image, the one-shots, the names; a
// preview's policy on top.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { noAllowance } from '../../src/config/index.js';
import { stackProblems, type StackExpectations } from '../../src/stack/checks.js';
import { recordedWorkspace, rendered } from '../helpers/rendered.js';

let workspace = '';
beforeAll(() => {
  workspace = recordedWorkspace();
});

const expectations = (over: Partial<StackExpectations> = {}): StackExpectations => ({
  stackName: 'todo-pr-7',
  files: ['stack.yml'],
  oneShotServices: ['migrate'],
  oneShotsFirst: false,
  ...over,
});
const fixture = () => rendered('fixture-stack', workspace);

describe('stackProblems', () => {
  test("the fixture's stack runs the run's image and a migrate that can finish", () => {
    expect(stackProblems(fixture(), expectations())).toEqual([]);
  });

  test('a one-shot that is not there, or that restarts after it succeeds', () => {
    const doc = fixture();
    doc.services.migrate.deploy = {};
    expect(stackProblems(doc, expectations({ oneShotServices: ['migrate', 'seed'] }))).toEqual([
      'stack-file "stack.yml": one-shot service "migrate" restarts even after it succeeds; give it deploy.restart_policy.condition: on-failure (or deploy.mode: replicated-job)',
      'stack-file "stack.yml" has no service "seed" (named in one-shot-services); set one-shot-services to your one-shot services, or none',
    ]);
  });

  test('a job is a one-shot, but one-shots-first would run it twice', () => {
    const doc = fixture();
    doc.services.migrate.deploy = { mode: 'replicated-job' };
    expect(stackProblems(doc, expectations())).toEqual([]);
    expect(stackProblems(doc, expectations({ oneShotsFirst: true }))).toEqual([
      'one-shots-first: true would run job "migrate" twice (Swarm runs a job again on every docker stack deploy): give it deploy.restart_policy.condition: on-failure instead of deploy.mode: replicated-job, or remove one-shots-first',
    ]);
  });

  test('a stack name that makes a service name longer than Swarm accepts', () => {
    const long = 'x'.repeat(56);
    expect(stackProblems(fixture(), expectations({ stackName: long }))).toEqual([
      `stack-name "${long}" makes service names longer than the 63 characters Swarm accepts (${long}_migrate): shorten stack-name`,
    ]);
  });

  test("a preview's findings name the stack files and preview-allow", () => {
    const preview = {
      stack: 'todo-pr-7',
      port: 20007,
      dir: workspace,
      workspace,
      allow: noAllowance(),
      actionSecrets: [],
    };
    expect(
      stackProblems(rendered('binary-socket', workspace), expectations({ oneShotServices: [], preview })),
    ).toEqual([
      `stack-file "stack.yml" in a preview (a pull request's stack on your swarm): service app mounts /var/run/docker.sock, the manager's Docker socket (allow it with bind:/var/run/docker.sock); see preview-allow`,
    ]);
  });
});
