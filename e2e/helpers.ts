// Helpers for the end-to-end scenarios: look at the sandbox's real engines, registry and logs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { expect } from '@jest/globals';
// @ts-expect-error plain JS module shared with npm run demo
import { runAction, fixtureInputs } from './run-action.mjs';
import { ROOT, sandbox } from './sandbox-env.mjs';
// @ts-expect-error plain JS module shared with the ECR emulator
import * as credentials from './credentials.mjs';

export interface RunResult {
  dir: string;
  /** The user's repository the run worked in (GITHUB_WORKSPACE, the working directory). */
  workspace: string;
  /** GITHUB_SHA. */
  sha: string;
  runnerTemp: string;
  runnerSecrets: string[];
  exitCode: number | null;
  mainSeconds: number;
  startedAt: number;
  lines: { at: number; text: string }[];
  signal: string | null;
  log: string;
  postExitCode: number | null;
  postLog: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
}

export interface RunOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  node?: string;
  sha?: string;
  event?: { name: string; payload: Record<string, unknown> };
  /** Files added to the workspace (name -> content). */
  files?: Record<string, string>;
  skipPost?: boolean;
  killAfter?: string;
  killSignal?: NodeJS.Signals;
  onLine?: (text: string) => void;
}

export const sb = sandbox();
export const repoRoot: string = ROOT;
/**
 * Runs the action as the runner does. A run that fails leaves its last log lines in the test output
 * (the ::add-mask:: commands left out), so that an unexpected failure can be told from its cause.
 */
export async function run(o: RunOptions): Promise<RunResult> {
  const r = await (runAction as (o: RunOptions) => Promise<RunResult>)(o);
  if (r.exitCode !== 0) {
    const shown = r.log.split('\n').filter((l) => l && !l.startsWith('::add-mask::'));
    console.log(
      `the action exited ${r.exitCode ?? r.signal}; its last log lines:\n${shown.slice(-12).join('\n')}`,
    );
  }
  return r;
}
export const inputs = (overrides: Record<string, string> = {}): Record<string, string> =>
  fixtureInputs(sb, overrides);

/**
 * The fixture's inputs for a stack of a test file's own, its app published on a port of its own (the
 * fixture's stack file publishes on PREVIEW_PORT when it is set, else on 8000): a stack another file
 * left running on 8000 can never keep its app from being scheduled.
 */
export const stackInputs =
  (stack: string, port: number) =>
  (overrides: Record<string, string> = {}): Record<string, string> =>
    inputs({
      'stack-name': stack,
      'stack-env': `PREVIEW_PORT=${port}`,
      'app-url': `http://127.0.0.1:${port}`,
      ...overrides,
    });

export function randomSha(): string {
  return [...Array(40)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');
}

export function manager(args: string[], env: Record<string, string> = {}, input?: string): string {
  return execFileSync('docker', ['-H', sb.MANAGER_DOCKER_HOST, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

/** GET on the manager's Engine API (directly on its socket, not through the action's tunnel). */
export function engine<T = unknown>(apiPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: sb.MANAGER_SOCKET, path: `/v1.41${apiPath}` }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`)),
        );
      })
      .on('error', reject);
  });
}

export interface ApiTask {
  ID: string;
  CreatedAt: string;
  JobIteration?: { Index?: number };
  Status: { State: string; Err?: string; Timestamp?: string };
  Spec: { ContainerSpec: { Image: string } };
}

/** The migrate tasks created for the image of this commit. */
export const migrateTasksFor = async (stack: string, sha: string) =>
  (await tasksOf(`${stack}_migrate`)).filter((t) =>
    t.Spec.ContainerSpec.Image.includes(`:${sha.slice(0, 7)}@`),
  );

export const tasksOf = (service: string) =>
  engine<ApiTask[]>(`/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);

export interface ApiService {
  Version: { Index: number };
  Spec: { TaskTemplate: { ContainerSpec: { Image: string } }; Labels?: Record<string, string> };
  PreviousSpec?: { TaskTemplate: { ContainerSpec: { Image: string } } };
  UpdateStatus?: { State: string };
  JobStatus?: { JobIteration?: { Index?: number } };
}
export const service = (name: string) => engine<ApiService>(`/services/${name}`);

/** A request to the sandbox registry's API for repo, with its credentials. */
export function registryApi(
  repo: string,
  method: string,
  apiPath: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Response> {
  const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
  return fetch(`http://${sb.REGISTRY}/v2/${repo}/${apiPath}`, {
    method,
    headers: { ...headers, authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` },
    body,
  });
}

export async function registryTags(repo: string): Promise<string[]> {
  const res = await registryApi(repo, 'GET', 'tags/list');
  return ((await res.json()) as { tags?: string[] }).tags ?? [];
}

/** The digest the registry holds for repo:tag, or undefined when there is no such tag. */
export async function registryDigest(repo: string, tag: string): Promise<string | undefined> {
  const res = await registryApi(repo, 'HEAD', `manifests/${tag}`, {
    accept:
      'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

const { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } = credentials as Record<string, string>;
const { MODE_CREDENTIALS, OVERRIDE_CREDENTIALS } = credentials as Record<string, Record<string, unknown>>;
const rolePassword = (credentials as { rolePassword: (role: string, registryPassword: string) => string })
  .rolePassword;

/** Every secret the sandbox hands the action. */
export function secrets(): string[] {
  const key = fs.readFileSync(sb.SSH_KEY, 'utf8');
  const passKey = fs.readFileSync(sb.SSH_KEY_PASS, 'utf8');
  const keyLines = [key, passKey].flatMap((k) =>
    k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
  );
  const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
  const roles: Record<string, { secretAccessKey: string }> = {
    ...(MODE_CREDENTIALS as Record<string, { secretAccessKey: string }>),
    override: OVERRIDE_CREDENTIALS as { secretAccessKey: string },
  };
  // What GetAuthorizationToken hands each role: its registry password, and the token that carries it.
  const rolePasswords = Object.keys(roles).map((role) => rolePassword(role, password));
  return [
    fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim(),
    password,
    Buffer.from(`AWS:${password}`).toString('base64'),
    ...rolePasswords,
    ...rolePasswords.map((p) => Buffer.from(`AWS:${p}`).toString('base64')),
    SANDBOX_SECRET_ACCESS_KEY,
    ...Object.values(roles).map((r) => r.secretAccessKey),
    'sandbox-passphrase',
    ...keyLines,
  ];
}

/**
 * No secret in anything the runner would show: the logs (less the ::add-mask:: commands, which the
 * runner consumes), the summary and the outputs.
 */
export function expectNoSecrets(r: RunResult, extra: string[] = []): void {
  const shown = [r.log, r.postLog]
    .join('\n')
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  const everything = [shown, r.summary, JSON.stringify(r.outputs)].join('\n');
  for (const secret of [...secrets(), ...r.runnerSecrets, ...extra])
    expect(everything.includes(secret)).toBe(false);
}

/** After main and post: no work directory (credentials, socket) left under RUNNER_TEMP. */
export function expectClean(r: RunResult): void {
  expect(fs.readdirSync(r.runnerTemp)).toEqual([]);
  expect(r.postExitCode).toBe(0);
}

/** The checks every run gets: expectClean, and expectNoSecrets (with the run's own extra secrets). */
export function expectTidy(r: RunResult, extraSecrets: string[] = []): void {
  expectClean(r);
  expectNoSecrets(r, extraSecrets);
}

/** A successful deploy of the fixture: its commit, and the image (repository:tag) and digest it deployed. */
export interface Deployed {
  sha: string;
  image: string;
  digest: string;
}

/** The successful deploys of each stack noted by this test file, oldest first. */
const deploys = new Map<string, Deployed[]>();

/** Notes a run that deployed sha to stack successfully, for ensureDeployed and deploysOf. */
export function noteDeployed(stack: string, sha: string, r: RunResult): Deployed {
  const d = { sha, image: r.outputs.image, digest: r.outputs.digest };
  deploys.set(stack, [...deploysOf(stack), d]);
  return d;
}

export const deploysOf = (stack: string): Deployed[] => deploys.get(stack) ?? [];

/** Whether stack runs d: its app and migrate services on d's image, the app's last update completed. */
async function runs(stack: string, d: Deployed): Promise<boolean> {
  const pinned = `${d.image}@${d.digest}`;
  try {
    const [app, migrate] = await Promise.all([service(`${stack}_app`), service(`${stack}_migrate`)]);
    return (
      [app, migrate].every((s) => s.Spec.TaskTemplate.ContainerSpec.Image === pinned) &&
      (app.UpdateStatus === undefined || app.UpdateStatus.State === 'completed')
    );
  } catch {
    return false; // no such service
  }
}

/** A scenario's set-up run, what, must succeed: else the scenario stops here, with the end of its log. */
export function setUp(what: string, r: RunResult): RunResult {
  if (r.exitCode !== 0) {
    const tail = r.log.split('\n').slice(-40).join('\n');
    throw new Error(`set-up: ${what} failed (exit code ${r.exitCode}):\n${tail}`);
  }
  return r;
}

/**
 * Set-up: deploys a new commit of the fixture to stack (the fixture's inputs otherwise, so published on
 * the fixture's 8000: for the todobackend stack that owns that port; a file's own stack deploys with
 * stackInputs), and notes it.
 */
export async function deployNew(stack: string): Promise<Deployed> {
  const sha = randomSha();
  const r = await run({ inputs: inputs({ 'stack-name': stack }), sha });
  return noteDeployed(stack, sha, setUp(`the deploy of ${sha} to ${stack}`, r));
}

/**
 * Set-up for a scenario that needs the fixture deployed to stack (to update it, deploy the same commit
 * again, roll back to it, or see that a run leaves it alone): the last deploy noted for stack while the
 * stack still runs it, or else a new commit deployed now. Returns that deploy.
 */
export async function ensureDeployed(stack: string): Promise<Deployed> {
  const last = deploysOf(stack).at(-1);
  if (last && (await runs(stack, last))) return last;
  return deployNew(stack);
}

export function sshdAccepted(): number {
  const log = fs.readFileSync(path.join(sb.SANDBOX_DIR, 'ssh/sshd.log'), 'utf8');
  return (log.match(/Accepted publickey/g) ?? []).length;
}

export function ecrRequests(): number {
  const log = fs.readFileSync(path.join(sb.SANDBOX_DIR, 'ecr/ecr.log'), 'utf8');
  return (log.match(/GetAuthorizationToken signature ok/g) ?? []).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** docker stack rm, then wait until its services, containers and networks are really gone. */
export async function removeStack(name: string): Promise<void> {
  manager(['stack', 'rm', name]);
  const label = `label=com.docker.stack.namespace=${name}`;
  let left = '';
  for (let i = 0; i < 600; i++) {
    left = [
      manager(['service', 'ls', '-q', '--filter', label]),
      manager(['ps', '-aq', '--filter', label]),
      manager(['network', 'ls', '-q', '--filter', label]),
    ].join('');
    if (!left.trim()) return;
    // Swarm leaves the exited containers of job tasks behind once their service is gone.
    if (!manager(['service', 'ls', '-q', '--filter', label]).trim()) {
      const stale = manager(['ps', '-aq', '--filter', label, '--filter', 'status=exited'])
        .split('\n')
        .filter(Boolean);
      // Swarm may be removing some of them already ("removal ... is already in progress"): look again.
      if (stale.length > 0) {
        try {
          manager(['rm', ...stale]);
        } catch {
          // the next round sees what is left
        }
      }
    }
    await sleep(200);
  }
  throw new Error(`stack ${name} did not go away; left: ${left.replace(/\n/g, ' ')}`);
}

/** Stops the sandbox's sshd: the listener and every open session, as a restart of the manager's sshd does. */
export async function stopSshd(): Promise<void> {
  const pidFile = path.join(sb.SANDBOX_DIR, 'ssh/sshd.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  // Freeze the listener first, so that no reconnect slips in between ending the sessions and stopping it.
  process.kill(pid, 'SIGSTOP');
  const sessions = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const session of sessions) process.kill(Number(session), 'SIGTERM');
  process.kill(pid, 'SIGTERM');
  process.kill(pid, 'SIGCONT');
  for (let i = 0; i < 50 && fs.existsSync(pidFile); i++) await sleep(100);
}

export function startSshd(): void {
  const dir = path.join(sb.SANDBOX_DIR, 'ssh');
  execFileSync('/usr/sbin/sshd', ['-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')]);
}

/**
 * An ECR repository made in the sandbox's emulator, as a user makes one before the first push; one an
 * earlier run made is kept.
 */
export async function createRepository(name: string): Promise<void> {
  const ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: sb.ECR_ENDPOINT,
    credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY },
  });
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  } catch (e) {
    if ((e as Error).name !== 'RepositoryAlreadyExistsException') throw e;
  } finally {
    ecr.destroy();
  }
}
