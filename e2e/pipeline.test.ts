// End-to-end scenarios: the bundled dist/ run as the GitHub runner runs it, against the sandbox's real
// dockerd/Swarm, authenticated registry, OpenSSH sshd, ECR emulator and bats.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  type Deployed,
  type RunResult,
  deployNew,
  deploysOf,
  ecrRequests,
  ensureDeployed,
  expectTidy,
  inputs,
  manager,
  migrateTasksFor,
  noteDeployed,
  randomSha,
  registryTags,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  sshdAccepted,
  startSshd,
  stopSshd,
  tasksOf,
} from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'todobackend';
const short = (sha: string) => sha.slice(0, 7);

beforeAll(async () => {
  await removeStack(STACK);
});

/**
 * Set-up: a version deployed here that the stack no longer runs, its image only in the registry (the
 * stack deployed, and then a newer commit, if need be).
 */
async function ensureSuperseded(): Promise<Deployed> {
  const current = await ensureDeployed(STACK);
  const earlier = deploysOf(STACK).find((d) => d.image !== current.image);
  if (earlier) return earlier;
  await deployNew(STACK);
  return current;
}

describe('deploy to a real swarm', () => {
  test('1. first deploy of a fresh stack: pushed, pulled with forwarded credentials, migrated, tested', async () => {
    await removeStack(STACK);
    const sha = randomSha();
    const r = await run({ inputs: inputs(), sha });
    expect(r.log).toContain('todobackend_migrate: complete');
    expect(r.exitCode).toBe(0);
    const image = `${sb.REGISTRY}/todobackend:${short(sha)}`;
    expect(r.outputs).toMatchObject({
      image,
      tag: short(sha),
      registry: sb.REGISTRY,
      stack: STACK,
      url: 'http://127.0.0.1:8000',
      migrate: 'complete',
      'tests-passed-count': '7',
      'tests-failed-count': '0',
    });
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryTags('todobackend')).toContain(short(sha));

    // The stack runs exactly the pushed image, pinned to its digest by --with-registry-auth.
    const app = await service(`${STACK}_app`);
    expect(app.Spec.TaskTemplate.ContainerSpec.Image).toBe(`${image}@${r.outputs.digest}`);
    // docker's rendering, deployed: a value holding $ ($$ in the file) arrives as docker reads it.
    expect((app.Spec.TaskTemplate.ContainerSpec as { Env?: string[] }).Env).toContain('PRICE=costs $5');
    // The manager's engine has no login of its own: it could only pull with the forwarded credentials.
    const emptyConfig = fs.mkdtempSync(path.join(r.dir, 'cfg-'));
    expect(() => manager(['pull', image], { DOCKER_CONFIG: emptyConfig })).toThrow(
      /no basic auth credentials|unauthorized/,
    );
    expect(
      manager(['image', 'ls', '--digests', '--format', '{{.Digest}}', `${sb.REGISTRY}/todobackend`]),
    ).toContain(r.outputs.digest);

    expect(r.summary).toContain('✅ Deployed todobackend');
    expect(r.summary).toMatch(/\| Stack deploy \| ✅ ok \| \+[\d.]+ s \| [\d.]+ s \|/);
    expect(r.summary).toContain(r.outputs.digest);
    expect(r.summary).toContain('| todobackend_migrate | complete |');
    expect(r.summary).toContain('| 3 | create a todo | ✅ pass |');
    expect(r.summary).toMatch(/\| todobackend_app \| Replicated \| 1\/1 \|/);
    expect(r.postLog).toContain('Already clean');
    noteDeployed(STACK, sha, r);
    expectTidy(r);
  });

  test('2. a new SHA rolls the app and runs migrate again for the new version', async () => {
    await ensureDeployed(STACK);
    const sha = randomSha();
    const before = await service(`${STACK}_app`);
    const r = await run({ inputs: inputs({ 'extra-tags': 'latest, main' }), sha });
    expect(r.exitCode).toBe(0);
    expect(await registryTags('todobackend')).toEqual(expect.arrayContaining([short(sha), 'latest', 'main']));
    const app = await service(`${STACK}_app`);
    expect(app.Version.Index).toBeGreaterThan(before.Version.Index);
    expect(app.Spec.TaskTemplate.ContainerSpec.Image).toContain(`todobackend:${short(sha)}@`);
    expect(app.UpdateStatus?.State).toBe('completed');
    const mine = await migrateTasksFor(STACK, sha);
    expect(mine.map((t) => t.Status.State)).toEqual(['complete']);
    expect(r.outputs.migrate).toBe('complete');
    expect(r.outputs.digest).toMatch(/^sha256:/);
    // The tests ran against the new tasks while Swarm's update monitor was still watching them.
    const line = (text: string) => r.lines.findIndex((l) => l.text.includes(text));
    expect(line('todobackend_app, todobackend_db: all tasks run the new spec')).toBeGreaterThan(-1);
    expect(line('todobackend_app, todobackend_db: all tasks run the new spec')).toBeLessThan(
      line('::group::Acceptance tests'),
    );
    expect(line('::group::Acceptance tests')).toBeLessThan(line('todobackend_app: converged'));
    noteDeployed(STACK, sha, r);
    expectTidy(r);
  });

  test('3. re-running the same SHA (Node 20, passphrase key, fingerprint pin) runs migrate again', async () => {
    const { sha } = await ensureDeployed(STACK);
    const before = (await tasksOf(`${STACK}_migrate`)).map((t) => t.ID);
    const hostKey = fs.readFileSync(sb.SSH_HOST_PUB, 'utf8').split(' ')[1];
    const { createHash } = await import('node:crypto');
    const fp =
      'SHA256:' +
      createHash('sha256').update(Buffer.from(hostKey, 'base64')).digest('base64').replace(/=+$/, '');
    const r = await run({
      inputs: inputs({
        'ssh-private-key': fs.readFileSync(sb.SSH_KEY_PASS, 'utf8'),
        'ssh-passphrase': 'sandbox-passphrase',
        'ssh-known-hosts': fp,
      }),
      sha,
      node: process.execPath,
    });
    expect(r.exitCode).toBe(0);
    expect(r.log).toContain('forced a new run of: todobackend_migrate');
    const after = await tasksOf(`${STACK}_migrate`);
    const fresh = after.filter((t) => !before.includes(t.ID));
    expect(fresh.map((t) => t.Status.State)).toEqual(['complete']);
    expect(r.outputs.migrate).toBe('complete');
    noteDeployed(STACK, sha, r);
    expectTidy(r);
  });

  test('4. an existing tag deploys without a build (build: false, image-tag), tests off', async () => {
    const earlier = await ensureSuperseded();
    const image = `${sb.REGISTRY}/todobackend:${short(earlier.sha)}`;
    // The runner must get the tag from the registry again.
    execFileSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, 'image', 'rm', image], { stdio: 'ignore' });
    const r = await run({
      inputs: inputs({ build: 'false', 'image-tag': short(earlier.sha), acceptance: 'false', 'app-url': '' }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(0);
    expect(r.log).not.toContain('docker build');
    expect(r.log).toMatch(/\[command\]\S*docker pull 127\.0\.0\.1:\d+\/todobackend:/);
    expect(r.log).not.toContain('::group::Acceptance tests');
    expect(r.outputs).toMatchObject({
      image,
      tag: short(earlier.sha),
      digest: earlier.digest,
      migrate: 'complete',
    });
    expect(r.outputs['tests-passed-count']).toBeUndefined();
    expect(r.summary).toContain('| Pull existing image | ✅ ok |');
    expect((await service(`${STACK}_app`)).Spec.TaskTemplate.ContainerSpec.Image).toBe(
      `${image}@${earlier.digest}`,
    );
    noteDeployed(STACK, earlier.sha, r);
    expectTidy(r);
  });

  test('5. build: false with a tag that is not in the registry fails clearly, nothing deployed', async () => {
    await ensureDeployed(STACK);
    const before = await service(`${STACK}_app`);
    const r = await run({ inputs: inputs({ build: 'false', 'image-tag': 'not-pushed' }), sha: randomSha() });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      `build is false but ${sb.REGISTRY}/todobackend:not-pushed could not be pulled: push it first, or set build: true`,
    );
    expect((await service(`${STACK}_app`)).Version.Index).toBe(before.Version.Index);
    expectTidy(r);
  });

  test('6. migrate failing twice then succeeding is a success', async () => {
    const sha = randomSha();
    const r = await run({
      inputs: inputs({ 'build-args': `MIGRATE_FAIL_TIMES=2\nMIGRATE_COUNTER=${sha}` }),
      sha,
    });
    expect(r.exitCode).toBe(0);
    const mine = await migrateTasksFor(STACK, sha);
    expect(mine.map((t) => t.Status.State).sort()).toEqual(['complete', 'failed', 'failed']);
    expect(r.log).toMatch(
      /run 2 of 4 \(1 \+ max_attempts 3\): failed: task: non-zero exit \(3\); Swarm retries/,
    );
    expect(r.outputs.migrate).toBe('complete');
    expect(r.summary).toContain('| todobackend_migrate | complete |');
    expectTidy(r);
  });

  test('7. migrate always failing fails right after max_attempts, with its error and logs, and no tests run', async () => {
    const sha = randomSha();
    const r = await run({ inputs: inputs({ 'build-args': 'MIGRATE_FAIL=always' }), sha });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.migrate).toBe('failed');
    expect(r.log).toContain(
      'todobackend_migrate failed after 4 runs (1 + max_attempts 3): failed: task: non-zero exit (3)',
    );
    expect(r.log).toContain('relation "todos" could not be created (MIGRATE_FAIL=always)');
    expect(r.log).not.toContain('::group::Acceptance tests');
    expect(r.outputs['tests-passed-count']).toBeUndefined();
    const mine = await migrateTasksFor(STACK, sha);
    expect(mine).toHaveLength(4);
    expect(mine.every((t) => t.Status.State === 'failed')).toBe(true);
    expect(r.summary).toContain('❌ Deploy of todobackend failed');
    expect(r.summary).toContain('| One-shot services | ❌ failed |');
    expect(r.summary).toContain('Last log lines of todobackend_migrate');
    expectTidy(r);
  });

  test('8. a failing acceptance test fails the step and is named in the log and the summary', async () => {
    const r = await run({ inputs: inputs({ 'build-args': 'BREAK_ENDPOINT=patch' }), sha: randomSha() });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({
      migrate: 'complete',
      'tests-passed-count': '6',
      'tests-failed-count': '1',
    });
    expect(r.log).toContain('1 acceptance test(s) failed: update a todo with PATCH');
    expect(r.summary).toContain('| 5 | update a todo with PATCH | ❌ fail |');
    expect(r.summary).toContain('<summary>update a todo with PATCH</summary>');
    expectTidy(r);
  });

  test('9. a new version whose app cannot start: Swarm pauses the update, the step fails with its reason and logs', async () => {
    await ensureDeployed(STACK);
    const sha = randomSha();
    const r = await run({ inputs: inputs({ 'build-args': 'APP_START_FAIL=always' }), sha });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.migrate).toBe('complete');
    expect(r.log).toMatch(
      /todobackend_app update paused: update paused due to failure or early termination of task/,
    );
    expect(r.log).toContain('cannot start: config check failed (APP_START_FAIL=always)');
    // The task may have been running for a moment, long enough for the tests to start: whatever they
    // saw, the failed update is the reason the step gives.
    const failure = r.lines.filter((l) => l.text.startsWith('::error::')).at(-1)?.text;
    expect(failure).toMatch(/^::error::todobackend_app update paused/);
    expect(r.summary).toMatch(/\*\*Failure:\*\* todobackend_app update paused/);
    expect(r.summary).toContain('### ❌ todobackend_app did not converge');
    expect(r.summary).toContain('| Converge | ❌ failed |');
    expect((await service(`${STACK}_app`)).UpdateStatus?.State).toBe('paused');
    expectTidy(r);
  });

  test('10. a wrong host key is refused before authentication and nothing is deployed', async () => {
    await ensureDeployed(STACK);
    const before = await service(`${STACK}_app`);
    const accepted = sshdAccepted();
    const otherKey = fs.readFileSync(`${sb.SSH_KEY}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const r = await run({
      inputs: inputs({ 'ssh-known-hosts': `[127.0.0.1]:${sb.SSH_PORT} ${otherKey}` }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /ssh-known-hosts: 127\.0\.0\.1 presented host key SHA256:\S+, which is not the pinned key/,
    );
    expect(sshdAccepted()).toBe(accepted);
    expect((await service(`${STACK}_app`)).Version.Index).toBe(before.Version.Index);
    expect(r.log).not.toContain('stack deploy');
    expectTidy(r);
  });

  test('11. a wrong registry password fails at login and nothing is built or deployed', async () => {
    await ensureDeployed(STACK);
    const wrong = 'wrong-registry-password-123';
    const emulator = spawn('node', [path.join(repoRoot, 'e2e/ecr-emulator.mjs')], {
      env: {
        ...process.env,
        ECR_EMULATOR_PORT: '4599',
        ECR_EMULATOR_REGISTRY: sb.REGISTRY,
        ECR_EMULATOR_PASSWORD: wrong,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => emulator.stdout!.once('data', resolve));
    try {
      const before = await service(`${STACK}_app`);
      const r = await run({
        inputs: inputs(),
        sha: randomSha(),
        env: { AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:4599' },
      });
      expect(r.exitCode).toBe(1);
      expect(r.log).toContain(`ECR rejected the registry credentials for ${sb.REGISTRY} (401 from /v2/)`);
      expect(r.log).not.toContain('docker build');
      expect((await service(`${STACK}_app`)).Version.Index).toBe(before.Version.Index);
      expect(r.summary).toContain('| ECR login | ❌ failed |');
      expectTidy(r, [wrong]);
    } finally {
      emulator.kill();
    }
  });

  test('12. requests signed with the wrong AWS secret are refused by the ECR API, nothing else happens', async () => {
    const r = await run({
      inputs: inputs(),
      sha: randomSha(),
      env: { AWS_SECRET_ACCESS_KEY: 'not-the-right-secret' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      'ECR GetAuthorizationToken failed: InvalidSignatureException: signature does not match',
    );
    expect(r.log).not.toContain('[command]');
    expectTidy(r, ['not-the-right-secret']);
  });

  test('13. bad inputs give one clear error each and touch nothing', async () => {
    const requests = ecrRequests();
    const stackProblem = 'The stack file cannot be deployed';
    const cases: [Record<string, string>, RegExp, string?][] = [
      [{ 'ssh-host': '' }, /ssh-host is required/],
      // Docker's rendering of the stack file is checked before anything starts too.
      [{ 'one-shot-services': 'seed' }, /stack-file "stack.yml" has no service "seed"/, stackProblem],
      [
        { 'version-variable': 'TAG' },
        /stack-file "stack.yml" uses \$\{APP_VERSION\}, which the deploy does not set/,
        stackProblem,
      ],
      [{ 'stack-file': '/nonexistent/stack.yml' }, /stack-file "\/nonexistent\/stack.yml" does not exist/],
      [
        { 'ssh-known-hosts': '127.0.0.1 ssh-ed25519 not-base64!' },
        /ssh-known-hosts line 1: the ssh-ed25519 key data is not valid/,
      ],
      [{ 'one-shot-timeout': 'soon' }, /one-shot-timeout must be a positive number of seconds/],
      [{ mode: 'preview' }, /pr-number is required in mode preview outside a pull_request event/],
      [{ 'stack-secrets': 'secret_key=UNSET_SECRET' }, /takes its value from UNSET_SECRET, which is empty/],
      [{ 'build-args': 'AWS_SECRET_ACCESS_KEY' }, /build-args: "AWS_SECRET_ACCESS_KEY" is not NAME=VALUE/],
      [
        { 'acceptance-args': '-e AWS_SECRET_ACCESS_KEY' },
        /acceptance-args: "-e AWS_SECRET_ACCESS_KEY" passes a variable by name/,
      ],
      [{ 'stack-env': 'DOCKER_HOST=tcp://127.0.0.1:9' }, /stack-env: DOCKER_HOST would steer the docker CLI/],
      [{ 'acceptance-timeout': '9999999' }, /acceptance-timeout must be at most 21600 seconds/],
      [{ 'stack-name': 'todo.backend' }, /stack-name "todo.backend" is not valid/],
      [{ 'one-shot-services': ' , ' }, /one-shot-services "," names no service/],
    ];
    for (const [override, message, heading = 'Inputs need fixing'] of cases) {
      const r = await run({ inputs: inputs(override), sha: randomSha() });
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(message);
      expect(r.log).not.toContain('[command]');
      expect(r.postLog).toContain('Nothing to clean up');
      expect(r.summary).toContain(`## ❌ ${heading}`);
      expect(r.summary).toMatch(message);
      expectTidy(r);
    }
    expect(ecrRequests()).toBe(requests);
  });

  test('14. killed mid-deploy, the post step still removes credentials and the socket', async () => {
    const r = await run({ inputs: inputs(), sha: randomSha(), killAfter: 'One-shot services: started' });
    expect(r.signal).toBe('SIGKILL');
    const workDir = r.state.workDir;
    expect(workDir).toContain(r.runnerTemp);
    expect(r.postLog).toContain(`Removed ${workDir}`);
    expect(fs.existsSync(workDir)).toBe(false);
    // A killed run cannot release its deploy lock: it stays until it expires, or is removed by hand.
    expect(manager(['config', 'ls', '--format', '{{.Name}}'])).toContain('ecr-swarm-deploy-lock.todobackend');
    manager(['config', 'rm', 'ecr-swarm-deploy-lock.todobackend']);
    expectTidy(r);
  });

  test('15. cancelled (SIGTERM) mid-wait, main stops within seconds and cleans up itself', async () => {
    const r = await run({
      inputs: inputs({ 'build-args': 'MIGRATE_FAIL=always' }),
      sha: randomSha(),
      killAfter: 'One-shot services: started',
      killSignal: 'SIGTERM',
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('Received SIGTERM: closing the tunnel and removing credentials');
    expect(r.mainSeconds).toBeLessThan(30);
    expect(fs.existsSync(r.state.workDir)).toBe(false);
    expect(r.postLog).toContain('Already clean');
    expect(manager(['config', 'ls', '-q', '--filter', 'name=ecr-swarm-deploy-lock.todobackend']).trim()).toBe(
      '',
    );
    expect(r.summary).toContain('❌ Deploy of todobackend failed');
    expect(r.summary).toContain(
      '**Failure:** cancelled (SIGTERM) after ECR login, Stack file, Build and push, Find image in ECR, SSH tunnel, Deploy lock, Stack secrets, Stack deploy',
    );
    expectTidy(r);
  });
});

describe('deploy lock on the manager', () => {
  const LOCK = 'ecr-swarm-deploy-lock.todobackend';
  const at = (r: RunResult, text: string) => r.lines.find((l) => l.text.includes(text))?.at ?? NaN;
  /** A lock held by another run, as the action writes it: its holder, and the label given (its time). */
  const plantLock = (label: string) =>
    manager(
      [
        'config',
        'create',
        '--label',
        'com.github.ecr-swarm-deploy.owner=someone/else run 99 job deploy',
        '--label',
        `com.github.ecr-swarm-deploy.${label}`,
        LOCK,
        '-',
      ],
      {},
      'held by hand\n',
    );
  /** As an earlier version of the action took it: with an expiry written by its runner's clock. */
  const plantExpiring = (expires: Date) => plantLock(`expires=${expires.toISOString()}`);
  /** As this version takes it: a hold in seconds, its times the manager's. */
  const plantHeld = (holdSeconds: number) => plantLock(`hold=${holdSeconds}`);
  const lockExists = () => manager(['config', 'ls', '-q', '--filter', `name=${LOCK}`]).trim() !== '';

  test('16. two runs deploying the same stack at once do not interleave: the second waits for the first', async () => {
    const first = run({ inputs: inputs(), sha: randomSha() });
    await new Promise((r) => setTimeout(r, 300));
    const second = run({ inputs: inputs(), sha: randomSha() });
    const [a, b] = await Promise.all([first, second]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const waiter = [a, b].find((r) =>
      r.log.includes('Waiting for the deploy lock of stack todobackend, held by example/todobackend'),
    );
    const holder = waiter === a ? b : a;
    expect(waiter).toBeDefined();
    // The waiter took the lock, and deployed, only after the holder had run its acceptance tests.
    expect(at(waiter!, 'Holding the deploy lock')).toBeGreaterThan(at(holder, '::group::Acceptance tests'));
    expect(at(waiter!, '::group::Stack deploy')).toBeGreaterThan(at(holder, '::group::Acceptance tests'));
    expect(lockExists()).toBe(false);
    expectTidy(a);
    expectTidy(b);
  });

  test('17. a lock held by a live run stops the deploy after lock-timeout, naming the holder; nothing deployed', async () => {
    await ensureDeployed(STACK);
    plantExpiring(new Date(Date.now() + 3600_000));
    try {
      const before = await service(`${STACK}_app`);
      const r = await run({ inputs: inputs({ 'lock-timeout': '2' }), sha: randomSha() });
      expect(r.exitCode).toBe(1);
      expect(r.log).toContain(
        'another deploy of stack todobackend holds its lock: someone/else run 99 job deploy, since',
      );
      expect(r.log).not.toContain('stack deploy --with-registry-auth');
      expect((await service(`${STACK}_app`)).Version.Index).toBe(before.Version.Index);
      expect(lockExists()).toBe(true);
      expectTidy(r);
    } finally {
      manager(['config', 'rm', LOCK]);
    }
  });

  test('18. an expired lock (its run died) is removed with a warning and the deploy goes on', async () => {
    plantExpiring(new Date(Date.now() - 60_000));
    const r = await run({ inputs: inputs(), sha: randomSha() });
    expect(r.exitCode).toBe(0);
    expect(r.log).toMatch(
      /::warning::Removing an expired deploy lock of stack todobackend, held by someone\/else run 99/,
    );
    expect(lockExists()).toBe(false);
    expectTidy(r);
  });

  /**
   * The action's process clock set hours off, as on a runner whose clock is wrong: a module preloaded
   * into Node shifts Date, the only wall clock the action reads.
   */
  const clockOff = (hours: number): Record<string, string> => {
    const skew = `const R = Date, skew = ${hours * 3600_000};
function D(...a) { if (!new.target) return new R(R.now() + skew).toString(); return a.length > 0 ? new R(...a) : new R(R.now() + skew); }
D.prototype = R.prototype; D.now = () => R.now() + skew; D.parse = R.parse; D.UTC = R.UTC; globalThis.Date = D;
console.error('runner clock ${hours} h off: ' + new D().toISOString());`;
    return { NODE_OPTIONS: `--import=data:text/javascript;base64,${Buffer.from(skew).toString('base64')}` };
  };

  test('19. runners whose clocks are hours off judge the lock by no wall clock: a live lock is respected, one left unrenewed for its hold is removed', async () => {
    await ensureDeployed(STACK);
    const before = await service(`${STACK}_app`);
    // An hour's hold, judged by a runner 3 hours ahead: by its own clock the lock expired long ago.
    plantHeld(3600);
    try {
      const ahead = await run({
        inputs: inputs({ 'lock-timeout': '2' }),
        sha: randomSha(),
        env: clockOff(3),
      });
      expect(ahead.exitCode).toBe(1);
      expect(ahead.log).toContain('runner clock 3 h off');
      expect(ahead.log).toMatch(
        /another deploy of stack todobackend holds its lock: someone\/else run 99 job deploy, since \S+, last renewed \S+; free once it goes unrenewed for 3600 s/,
      );
      expect(ahead.log).not.toContain('Removing an expired deploy lock');
      expect(lockExists()).toBe(true);
      expect((await service(`${STACK}_app`)).Version.Index).toBe(before.Version.Index);
      expectTidy(ahead);
    } finally {
      manager(['config', 'rm', LOCK]);
    }
    // A 1 s hold, past on the manager, judged by a runner 3 hours behind: by its own clock the lock
    // holds for 3 more hours, and lock-timeout would run out.
    plantHeld(1);
    await new Promise((r) => setTimeout(r, 1500));
    const behind = await run({
      inputs: inputs({ 'lock-timeout': '5' }),
      sha: randomSha(),
      env: clockOff(-3),
    });
    expect(behind.exitCode).toBe(0);
    expect(behind.log).toContain('runner clock -3 h off');
    expect(behind.log).toMatch(
      /::warning::Removing an expired deploy lock of stack todobackend, held by someone\/else run 99 job deploy, since \S+, last renewed \S+; free once it goes unrenewed for 1 s/,
    );
    expect(lockExists()).toBe(false);
    expectTidy(behind);
  });

  test('20. a long run renews its lock on the manager while it works, and stops when it releases it', async () => {
    const sha = randomSha();
    const seen: { id: string; created: number; updated: number; renewals?: string }[] = [];
    const look = () => {
      try {
        const [lock] = JSON.parse(manager(['config', 'inspect', LOCK])) as {
          ID: string;
          CreatedAt: string;
          UpdatedAt: string;
          Spec: { Labels: Record<string, string> };
        }[];
        const labels = lock.Spec.Labels;
        // Only this run's lock: other scenarios may be deploying the stack too.
        if (!labels['com.github.ecr-swarm-deploy.owner'].includes(`sha ${short(sha)}`)) return;
        seen.push({
          id: lock.ID,
          created: Date.parse(lock.CreatedAt),
          updated: Date.parse(lock.UpdatedAt),
          renewals: labels['com.github.ecr-swarm-deploy.renewals'],
        });
      } catch {
        // not held at the moment
      }
    };
    const poll = setInterval(look, 1000);
    let r: RunResult;
    try {
      // The tests start 25 s late: the run holds its lock past its first renewal, 20 s after taking it.
      r = await run({
        inputs: inputs({ 'acceptance-command': 'bash -c "sleep 25 && exec bats /app/src/acceptance.bats"' }),
        sha,
      });
    } finally {
      clearInterval(poll);
    }
    expect(r.exitCode).toBe(0);
    expect(r.log).toMatch(/Holding the deploy lock of stack todobackend \(\S+\), renewed every 20 s/);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1);
    const last = seen.at(-1)!;
    expect(Number(last.renewals)).toBeGreaterThanOrEqual(1);
    // UpdatedAt moved on the manager's clock: the lock now holds from its last renewal.
    expect(last.updated - last.created).toBeGreaterThanOrEqual(19_000);
    expect(r.log).not.toMatch(/could not renew|deploy lock of stack todobackend is gone/);
    expect(lockExists()).toBe(false);
    expectTidy(r);
  });
});

describe('a dropped SSH connection', () => {
  test('21. sshd restarted mid-wait: the tunnel reconnects and the deploy carries on', async () => {
    let restarted: Promise<void> | undefined;
    const r = await run({
      inputs: inputs({ 'build-args': `MIGRATE_FAIL_TIMES=2\nMIGRATE_COUNTER=${randomSha()}` }),
      sha: randomSha(),
      onLine: (text) => {
        if (text.includes('One-shot services: started') && !restarted) {
          restarted = stopSshd().then(async () => {
            await new Promise((done) => setTimeout(done, 1500));
            startSshd();
          });
        }
      },
    });
    await restarted;
    expect(r.log).toContain(
      '::warning::SSH connection to 127.0.0.1 lost; reconnecting through the managers of ssh-host (up to 60 s)',
    );
    expect(r.log).toContain('Reconnected through manager 127.0.0.1');
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
    expectTidy(r);
  });

  test('22. sshd gone for good: the run gives up after ssh-reconnect-timeout with a clear error', async () => {
    let stopped: Promise<void> | undefined;
    try {
      const r = await run({
        inputs: inputs({
          'build-args': `MIGRATE_FAIL_TIMES=2\nMIGRATE_COUNTER=${randomSha()}`,
          'ssh-reconnect-timeout': '3',
        }),
        sha: randomSha(),
        onLine: (text) => {
          if (text.includes('One-shot services: started') && !stopped) stopped = stopSshd();
        },
      });
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(
        /SSH connection to 127\.0\.0\.1 lost, and no manager of ssh-host could be used within 3 s \(ssh-reconnect-timeout\)/,
      );
      expect(r.mainSeconds).toBeLessThan(60);
      expectTidy(r);
    } finally {
      await stopped;
      startSshd();
    }
    // Cut off from the manager, that run could not release its deploy lock.
    expect(manager(['config', 'ls', '--format', '{{.Name}}'])).toContain('ecr-swarm-deploy-lock.todobackend');
    manager(['config', 'rm', 'ecr-swarm-deploy-lock.todobackend']);
  });
});

describe('rollback-on-failure', () => {
  async function expectBackTo(image: string) {
    const app = await service(`${STACK}_app`);
    expect(app.Spec.TaskTemplate.ContainerSpec.Image).toBe(image);
    expect(app.UpdateStatus?.State).toBe('rollback_completed');
    expect((await fetch('http://127.0.0.1:8000/todos')).status).toBe(200);
  }

  test('23. an app that cannot start is rolled back to the previous version, and the step still fails', async () => {
    await ensureDeployed(STACK);
    const previous = (await service(`${STACK}_app`)).Spec.TaskTemplate.ContainerSpec.Image;
    const r = await run({
      inputs: inputs({ 'build-args': 'APP_START_FAIL=always', 'rollback-on-failure': 'true' }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(/todobackend_app update paused/);
    expect(r.log).toMatch(
      /rolled back todobackend_app; rolled back todobackend_db|rolled back todobackend_db; rolled back todobackend_app/,
    );
    expect(r.summary).toContain('### ↩️ Rollback');
    expect(r.summary).toContain('| todobackend_app | ✅ rolled back |');
    expect(r.summary).toContain('| Rollback | ✅ ok |');
    await expectBackTo(previous);
    expectTidy(r);
  });

  test('24. failing acceptance tests roll the new version back too', async () => {
    await ensureDeployed(STACK);
    const previous = (await service(`${STACK}_app`)).Spec.TaskTemplate.ContainerSpec.Image;
    const r = await run({
      inputs: inputs({ 'build-args': 'BREAK_ENDPOINT=patch', 'rollback-on-failure': 'true' }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('1 acceptance test(s) failed: update a todo with PATCH');
    expect(r.log).toContain('rolled back todobackend_app');
    await expectBackTo(previous);
    expectTidy(r);
  });
});

describe('migrate as a replicated-job', () => {
  const JOB_STACK = 'todojob';
  const jobInputs = () =>
    inputs({
      'stack-name': JOB_STACK,
      'stack-file': 'stack-job.yml',
      'stack-env': 'PREVIEW_PORT=8200',
      'app-url': 'http://127.0.0.1:8200',
    });

  beforeAll(() => removeStack(JOB_STACK));
  afterAll(() => removeStack(JOB_STACK));

  test('25. the job completes, and a re-run of the same SHA runs a new iteration', async () => {
    const sha = randomSha();
    const first = await run({ inputs: { ...jobInputs(), 'tag-format': 'full' }, sha });
    expect(first.exitCode).toBe(0);
    expect(first.outputs.tag).toBe(sha);
    expect(first.outputs.migrate).toBe('complete');
    const iteration = (await service(`${JOB_STACK}_migrate`)).JobStatus?.JobIteration?.Index ?? 0;

    const again = await run({ inputs: jobInputs(), sha });
    expect(again.exitCode).toBe(0);
    const job = await service(`${JOB_STACK}_migrate`);
    expect(job.JobStatus?.JobIteration?.Index).toBe(iteration + 1);
    const tasks = await tasksOf(`${JOB_STACK}_migrate`);
    expect(
      tasks.filter((t) => (t.JobIteration?.Index ?? 0) === iteration + 1).map((t) => t.Status.State),
    ).toEqual(['complete']);
    expectTidy(again);
  });
});

describe('registry credentials', () => {
  /** Every file under dir, with its path. */
  const filesUnder = (dir: string) =>
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));

  test('26. a docker credential helper on PATH is never used: the token stays in the private DOCKER_CONFIG', async () => {
    // The helpers docker/cli picks by default on Linux (pass when `pass` is on PATH, else secretservice),
    // as a store that works: it records each call and keeps what it is given.
    const helpers = fs.mkdtempSync(path.join(os.tmpdir(), 'esd-helpers-'));
    const store = `#!/bin/sh
echo "$(basename "$0") $1" >> '${helpers}/calls'
case "$1" in
  store) cat > '${helpers}/stored.json' ;;
  get) cat '${helpers}/stored.json' 2>/dev/null || { echo 'credentials not found in native keychain'; exit 1; } ;;
  list) echo '{}' ;;
esac
`;
    for (const name of ['docker-credential-pass', 'docker-credential-secretservice'])
      fs.writeFileSync(path.join(helpers, name), store, { mode: 0o755 });
    fs.writeFileSync(path.join(helpers, 'pass'), `#!/bin/sh\necho "pass $1" >> '${helpers}/calls'\n`, {
      mode: 0o755,
    });
    try {
      const sha = randomSha();
      const r = await run({ inputs: inputs(), sha, env: { PATH: `${helpers}:${process.env.PATH}` } });
      expect(r.exitCode).toBe(0);
      expect(fs.existsSync(path.join(helpers, 'calls'))).toBe(false);
      const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
      for (const file of [...filesUnder(helpers), ...filesUnder(r.dir)])
        expect([file, fs.readFileSync(file, 'utf8').includes(password)]).toEqual([file, false]);
      noteDeployed(STACK, sha, r);
      expectTidy(r);
    } finally {
      fs.rmSync(helpers, { recursive: true, force: true });
    }
  });
});
