import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

interface Step {
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  if?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency?: { group?: string };
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; if?: string; environment?: string }>;
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

  describe.each(['deploy.yml', 'preview.yml', 'release.yml'])('%s: no silent skip', (name) => {
    const w = load(name);
    const [job] = Object.values(w.jobs);
    const used = [...fs.readFileSync(path.join(dir, name), 'utf8').matchAll(/\bvars\.([A-Z_]+)/g)].map(
      (m) => m[1],
    );
    const check = job.steps[0];

    test('no condition on a variable: the job runs, and its first step checks every variable it uses', () => {
      expect(job.if ?? '').not.toMatch(/vars\./);
      for (const step of job.steps) expect(step.if ?? '').not.toMatch(/vars\./);
      expect(check.name).toBe("Check the environment's variables");
      expect(Object.keys(check.env ?? {}).sort()).toEqual([...new Set(used)].sort());
    });

    test('a variable left unset fails the check, naming it and the environment', () => {
      const env = Object.fromEntries(used.map((v) => [v, 'set']));
      const ok = spawnSync('bash', ['-e', '-c', check.run!], { env: { ...env, PATH: process.env.PATH } });
      expect(ok.status).toBe(0);
      const missing = used[used.length - 1];
      const r = spawnSync('bash', ['-e', '-c', check.run!], {
        env: { ...env, [missing]: '', PATH: process.env.PATH },
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stdout.trim()).toBe(
        `::error::variable ${missing} is not set in the ${job.environment} environment`,
      );
    });
  });

  test('a push to main deploys to staging; only a version tag changes production', () => {
    const deploy = load('deploy.yml');
    const release = load('release.yml');
    const [deployJob] = Object.values(deploy.jobs);
    const [releaseJob] = Object.values(release.jobs);
    expect(deployJob.environment).toBe('staging');
    expect(releaseJob.environment).toBe('production');
    expect(actionStep(deploy)!.with!['stack-name']).toBe('todobackend-staging');
    expect(actionStep(release)!.with!['stack-name']).toBe('todobackend');
    expect(actionStep(deploy)!.with!.mode ?? 'deploy').toBe('deploy');
    expect(deploy.concurrency?.group).not.toBe(release.concurrency?.group);
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
