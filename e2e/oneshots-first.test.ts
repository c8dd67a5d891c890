// one-shots-first: migrate deployed alone and completed before any other service changes; a migrate
// that fails leaves the app on its previous version, serving and passing its tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parse, stringify } from 'yaml';
import {
  expectTidy,
  inputs,
  manager,
  randomSha,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  setUp,
  tasksOf,
  type ApiTask,
  type RunOptions,
  type RunResult,
} from './helpers.js';

jest.setTimeout(300_000);

const STACK = 'early';
const PORT = 8130;
const URL = `http://${sb.APP_HOST}:${PORT}`;
const appSecret = fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim();

/**
 * The README's stack on its own port, its migrate reading the app's secret (a file secret, whose
 * relative path the cut-down stack file must keep resolving), and a public network only the app uses.
 */
function stack(): string {
  const doc = parse(fs.readFileSync(`${repoRoot}/e2e/fixture/stack-readme.yml`, 'utf8')) as {
    services: Record<string, Record<string, unknown>>;
    networks: Record<string, unknown>;
  };
  doc.services.app.ports = [{ target: 8000, published: PORT, protocol: 'tcp', mode: 'host' }];
  doc.services.app.networks = ['net', 'public'];
  doc.networks.public = { driver: 'overlay' };
  doc.services.migrate.secrets = ['secret_key'];
  doc.services.migrate.deploy = { restart_policy: { condition: 'on-failure', delay: '1s', max_attempts: 2 } };
  return stringify(doc);
}

const deployFirst = (sha: string, extra: Record<string, string> = {}, options: Partial<RunOptions> = {}) =>
  run({
    ...options,
    inputs: {
      'ecr-repository': 'todobackend',
      'ssh-host': sb.SSH_DEFAULT_HOST,
      'ssh-private-key': fs.readFileSync(sb.SSH_KEY, 'utf8'),
      'ssh-known-hosts': fs.readFileSync(sb.SSH_DEFAULT_KNOWN_HOSTS, 'utf8'),
      'stack-name': STACK,
      'app-url': URL,
      'one-shots-first': 'true',
      ...extra,
    },
    files: { 'stack.yml': stack(), 'secret_key.txt': appSecret },
    sha,
  });

const isOf = (sha: string) => (t: ApiTask) => t.Spec.ContainerSpec.Image.includes(`${sha.slice(0, 7)}@`);
const at = (t: ApiTask, when: 'CreatedAt' | 'Status') =>
  Date.parse(when === 'CreatedAt' ? t.CreatedAt : (t.Status.Timestamp ?? ''));

/** The stack runs this deploy: a success noted here, or a new one now. */
let deployed: { sha: string; image: string } | undefined;
async function ensureDeployed(): Promise<{ sha: string; image: string }> {
  const app = await service(`${STACK}_app`).catch(() => undefined);
  if (deployed && app?.Spec.TaskTemplate.ContainerSpec.Image === deployed.image) return deployed;
  const sha = randomSha();
  const r = setUp('a deploy of the stack', await deployFirst(sha));
  deployed = { sha, image: `${r.outputs.image}@${r.outputs.digest}` };
  return deployed;
}

const groups = (r: RunResult) =>
  r.lines.filter((l) => l.text.startsWith('::group::')).map((l) => l.text.slice('::group::'.length));

const PREVIEW = 'todobackend-pr-11';
beforeAll(async () => {
  await removeStack(STACK);
  await removeStack(PREVIEW);
});
afterAll(async () => {
  await removeStack(STACK);
  await removeStack(PREVIEW);
});

describe('one-shots-first', () => {
  test('the first deploy of a fresh stack deploys everything at once, and succeeds', async () => {
    await removeStack(STACK);
    const sha = randomSha();
    const r = await deployFirst(sha);
    expect(r.exitCode).toBe(0);
    expect(r.log).toContain(
      `one-shots-first: ${STACK} runs none of its services yet, so the whole stack is deployed at once`,
    );
    expect(groups(r)).not.toContain('Stack deploy: one-shots');
    expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
    deployed = { sha, image: `${r.outputs.image}@${r.outputs.digest}` };
    expectTidy(r);
  });

  test('migrate completes before the first task of the new app starts, and runs once', async () => {
    await ensureDeployed();
    const sha = randomSha();
    const r = await deployFirst(sha);
    expect(r.exitCode).toBe(0);
    // In the log: the one-shots deployed alone, migrate complete, then the whole stack.
    const order = [
      '::group::Stack deploy: one-shots',
      'One-shot services: started',
      `${STACK}_migrate: complete: completed with exit code 0 (task `,
      '::group::Stack deploy',
      '::group::Acceptance tests',
    ].map((text) => [
      text,
      r.lines.findIndex((l) => (text.endsWith(' ') ? l.text.startsWith(text) : l.text === text)),
    ]);
    expect(order.filter(([, i]) => i === -1)).toEqual([]);
    expect([...order].sort(([, a], [, b]) => Number(a) - Number(b))).toEqual(order);
    const migrate = (await tasksOf(`${STACK}_migrate`)).filter(isOf(sha));
    const app = (await tasksOf(`${STACK}_app`)).filter(isOf(sha));
    expect(migrate.map((t) => t.Status.State)).toEqual(['complete']);
    expect(app.length).toBeGreaterThan(0);
    const completed = at(migrate[0], 'Status');
    for (const t of app) expect(at(t, 'CreatedAt')).toBeGreaterThan(completed);
    expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
    deployed = { sha, image: `${r.outputs.image}@${r.outputs.digest}` };
    expectTidy(r);
  });

  test('cancelled while the one-shots deploy: the cut-down stack is gone with the run, the workspace untouched', async () => {
    await ensureDeployed();
    const r = await deployFirst(
      randomSha(),
      {},
      // The docker stack deploy command line names the cut-down document: it is written by then.
      { killAfter: 'stack-one-shots.json', killSignal: 'SIGTERM' },
    );
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('Received SIGTERM');
    expect(execFileSync('git', ['-C', r.workspace, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('');
    // (expectTidy: nothing of the run, the documents it wrote included, is left in the runner's temp.)
    expectTidy(r);
  });

  test('migrate failing: the step fails, the app still runs and serves the previous version', async () => {
    const previous = await ensureDeployed();
    const sha = randomSha();
    const r = await deployFirst(sha, { 'build-args': 'MIGRATE_FAIL=always' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.migrate).toBe('failed');
    expect(r.log).toContain(
      `The rollout was not started (one-shots-first): ${STACK}_app, ${STACK}_db still run the previous version`,
    );
    expect(r.summary).toContain('**The rollout was not started** (one-shots-first)');
    expect(groups(r)).not.toContain('Stack deploy');
    expect(r.log).not.toContain('::group::Acceptance tests');
    // The new migrate ran and failed; app and db were not touched.
    const migrate = (await tasksOf(`${STACK}_migrate`)).filter(isOf(sha));
    expect(migrate.length).toBe(3);
    for (const name of ['app', 'db'])
      expect((await service(`${STACK}_${name}`)).Spec.TaskTemplate.ContainerSpec.Image).toBe(previous.image);
    const running = (await tasksOf(`${STACK}_app`)).filter((t) => t.Status.State === 'running');
    expect(running.map((t) => t.Spec.ContainerSpec.Image)).toEqual([previous.image]);
    // The previous version's own acceptance tests pass against the URL.
    const out = execFileSync(
      'docker',
      [
        '-H',
        sb.RUNNER_DOCKER_HOST,
        'run',
        '--rm',
        '--network',
        'host',
        '-e',
        `APP_URL=${URL}`,
        previous.image,
        'bats',
        '/app/src/acceptance.bats',
      ],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/^1\.\.\d+/);
    expect(out).not.toMatch(/^not ok/m);
    expectTidy(r);
  });

  test('a preview from two stack files, an env-file and a stack secret: first at once, then migrate first', async () => {
    await removeStack(PREVIEW);
    const preview = (sha: string) =>
      run({
        inputs: inputs({
          mode: 'preview',
          'app-url': 'http://127.0.0.1:{port}',
          'github-token': '',
          'stack-file': 'stack.yml, stack.notes.yml',
          'env-file': 'deploy.env',
          'one-shots-first': 'true',
        }),
        files: {
          'stack.notes.yml':
            "version: '3.7'\nservices:\n  migrate:\n    environment:\n      MIGRATE_NOTE: ${NOTE}\n",
          'deploy.env': 'NOTE=from the env-file\n',
        },
        sha: randomSha(),
        event: {
          name: 'pull_request',
          payload: { action: 'synchronize', pull_request: { number: 11, head: { sha } } },
        },
      });
    const first = await preview(randomSha());
    expect(first.exitCode).toBe(0);
    expect(first.log).toContain(`one-shots-first: ${PREVIEW} runs none of its services yet`);
    const head = randomSha();
    const r = await preview(head);
    expect(r.exitCode).toBe(0);
    expect(groups(r)).toContain('Stack deploy: one-shots');
    expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
    // The cut-down files kept the override and the env-file's variable; the app got its secret.
    const env = manager([
      'service',
      'inspect',
      `${PREVIEW}_migrate`,
      '--format',
      '{{json .Spec.TaskTemplate.ContainerSpec.Env}}',
    ]);
    expect(JSON.parse(env)).toContain('MIGRATE_NOTE=from the env-file');
    const migrate = (await tasksOf(`${PREVIEW}_migrate`)).filter(isOf(head));
    expect(migrate.map((t) => t.Status.State)).toEqual(['complete']);
    expectTidy(r);
  });
});
