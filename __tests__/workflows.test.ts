import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
  if?: string;
  run?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency?: { group?: string };
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const dir = '.github/workflows';
const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { required?: boolean }>;
};
const load = (name: string) => parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Workflow;
const actionStep = (w: Workflow) =>
  Object.values(w.jobs)
    .flatMap((j) => j.steps)
    .find((s) => s.uses?.includes('/ecr-swarm-deploy@'));

describe('the example workflows', () => {
  test.each(['deploy.yml', 'preview.yml', 'release.yml'])(
    '%s: triggers, a concurrency group, permissions, and only inputs the action has',
    (name) => {
      const w = load(name);
      expect(Object.keys(w.on).length).toBeGreaterThan(0);
      expect(w.concurrency?.group).toBeTruthy();
      expect(w.permissions?.contents).toBe('read');
      const step = actionStep(w);
      expect(step).toBeDefined();
      for (const input of Object.keys(step!.with ?? {})) expect(Object.keys(action.inputs)).toContain(input);
    },
  );

  test('previews: the pull request events, the permissions GitHub feedback needs, teardown on close', () => {
    const w = load('preview.yml');
    // The base branch's workflow (pull_request_target): a pull request cannot change what it runs.
    expect(w.on.pull_request_target).toEqual({ types: ['opened', 'synchronize', 'reopened', 'closed'] });
    const checkout = Object.values(w.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with).toEqual({
      ref: '${{ github.event.pull_request.head.sha }}',
      'persist-credentials': false,
    });
    expect(w.permissions).toMatchObject({ deployments: 'write', 'pull-requests': 'write' });
    expect(actionStep(w)!.with!.mode).toBe(
      "${{ github.event.action == 'closed' && 'teardown' || 'preview' }}",
    );
  });

  test('release: version tags promote', () => {
    const w = load('release.yml');
    expect(w.on.push).toEqual({ tags: ['v*.*.*'] });
    expect(actionStep(w)!.with!.mode).toBe('promote');
  });

  test('e2e: this action (uses: ./) with the README deploy inputs only, and the sandbox always brought down', () => {
    const w = load('e2e.yml');
    expect(Object.keys(w.on).sort()).toEqual(['pull_request', 'push']);
    const steps = Object.values(w.jobs).flatMap((j) => j.steps);
    const step = steps.find((s) => s.uses === './');
    expect(step).toBeDefined();
    const inputs = Object.keys(step!.with ?? {});
    expect(inputs.sort()).toEqual(
      [
        'ecr-repository',
        'ssh-host',
        'ssh-private-key',
        'ssh-known-hosts',
        'stack-name',
        'stack-file',
        'app-url',
        'context',
      ].sort(),
    );
    for (const input of inputs) expect(Object.keys(action.inputs)).toContain(input);
    for (const [name, spec] of Object.entries(action.inputs))
      if (spec.required) expect(inputs).toContain(name);
    const last = steps[steps.length - 1];
    expect(last.if).toBe('always()');
    expect(last.run).toContain('e2e/sandbox.sh down');
  });
});
