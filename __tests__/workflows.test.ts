import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency?: { group?: string };
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
}

const dir = '.github/workflows';
const action = parse(fs.readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> };
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
    expect(w.on.pull_request).toEqual({ types: ['opened', 'synchronize', 'reopened', 'closed'] });
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
});
