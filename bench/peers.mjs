// Deploy-to-verdict: the action against the peers' way (DOCKER_HOST=ssh://..., docker stack deploy, then
// `docker stack deploy --detach=false`, or a docker-stack-wait-style poll every 5 s and every 1 s), on the
// sandbox, for the fixture stack, a 20-service stack and a 50-service stack (on the 3-node cluster when
// it can be brought up). Issue 14, items 2 and 4.
//
//   node bench/peers.mjs        (as root, with the sandbox up: e2e/sandbox.sh up)
//
// Environment: BENCH_ROUNDS (default 5), BENCH_SCENARIOS (default fixture,20,50), BENCH_CLUSTER=0 (the
// 50-service stack on the single-node sandbox instead of the 3-node cluster), BENCH_DETACH_GRACE (s the
// --detach=false CLI gets after the stack is done, default 20), BENCH_BASE=COMMIT (also run that commit's
// dist/index.js, "before", in every round, in an order that alternates with the worktree's: the action's
// lag before and after a change, in the same run), BENCH_PEERS=0 (the action only: no peer rounds and no
// --detach=false deploy).
//
// Every deploy, warm-up excepted, is of a new tag of one image built for this run (a unique label makes
// its digest ours alone): the tag is made in the registry (a manifest copy, untimed) before the deploy,
// so every service's spec changes, migrate runs again and every long-running service is updated. Before
// each deploy the stack is left to settle (every update completed, every task running, no migrate task
// active), watched on the manager's socket, untimed.
//
// What is timed:
// - action: dist/index.js as the runner runs it (e2e/run-action.mjs), build: false with image-tag (the
//   tag is pulled to the runner before the deploy), acceptance: false, RUNNER_DEBUG=1. From the arrival
//   of its `::group::Stack deploy` line to the arrival of the later of its two
//   `::debug::waited X s for ...: N polls, M Engine API calls` lines (the one-shot wait and the
//   convergence wait: the verdict). Also reported: "serving", the arrival of the later of
//   `<stack>_migrate: complete` and `...: all tasks run the new spec` (the moment the peers' criterion
//   below holds; the verdict waits further for Swarm's update monitor, 1 s in these stacks). Its lag:
//   the verdict's arrival after "Swarm done" (swarmDoneAt below: the peers' criterion, from the tasks'
//   timestamps) and after Swarm's updates completed (swarmVerdictAt: the latest UpdateStatus.CompletedAt,
//   or migrate's completion when later), both read once the stack settled.
// - peer 5 s / 1 s: bench/peer-deploy-wait.sh, from its spawn to its exit: `docker stack deploy
//   --with-registry-auth --detach=true` then a check (one `docker service ls`, one `docker service ps`)
//   at once and, while not done, every 5 s / 1 s after the previous check ended, until migrate's task of
//   this deploy is Complete and every other service runs as many tasks of the new image as it wants and
//   none of another image (see the script).
// - --detach=false: `docker stack deploy --with-registry-auth --detach=false`, once per scenario: whether
//   it returns, and when; killed (by its PID) BENCH_DETACH_GRACE s after the stack was done (peers'
//   criterion met and every update completed, seen on the manager's socket), or at 240 s.
// The peers' DOCKER_HOST is ssh://root@127.0.0.1:PORT, a second sshd started here on a free loopback
// port with `SetEnv DOCKER_HOST=unix://<manager socket>` (the same host key and authorized key as the
// sandbox's sshd, which the action uses), the docker 28 CLI at the front of PATH, and an `ssh` wrapper
// (-F a config naming the key and a known_hosts) in front of it. Each sshd is stopped by its PID.
//
// Stacks: bench (fixture stack.yml, app published on a free port via PREVIEW_PORT), bench20, bench50;
// each is removed at the end, with the secrets made for it and the image and tags of this run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixtureInputs, runAction, sandbox, ROOT } from '../e2e/run-action.mjs';

/** Text without the terminal's colour codes (ESC [ ... letter). */
const withoutColours = (text) =>
  text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), '');

const sb = sandbox();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'fixture,20,50').split(',');
const USE_CLUSTER = process.env.BENCH_CLUSTER !== '0';
const DETACH_GRACE = Number(process.env.BENCH_DETACH_GRACE ?? 20);
const PEERS = process.env.BENCH_PEERS !== '0';
const BASE = process.env.BENCH_BASE;
// The whole run's time budget (s): a scenario runs fewer than BENCH_ROUNDS rounds (at least one) when the
// next round would not end within its share of what is left (shares by weight: 1, 1.5, 2.5).
const BUDGET = Number(process.env.BENCH_BUDGET ?? 840);
const WEIGHTS = { fixture: 1, 20: 1.5, 50: 2.5 };
const RUN = crypto.randomBytes(3).toString('hex');
const REPO = 'todobackend';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-peers-'));
const started = Date.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s]`, ...a);
const randomSha = () => crypto.randomBytes(20).toString('hex');
const registryPassword = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();

// ---------- Engine API on a manager's socket (set-up, settling and checks; never timed) ----------
function api(socket, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath: socket,
        method,
        path: `/v1.41${p}`,
        headers: data
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          if (res.statusCode >= 400) reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
const q = (filters) => encodeURIComponent(JSON.stringify(filters));
const stackServices = (socket, stack) =>
  api(socket, 'GET', `/services?filters=${q({ label: [`com.docker.stack.namespace=${stack}`] })}`);
async function stackState(socket, stack) {
  const services = await stackServices(socket, stack);
  const tasks = services.length
    ? await api(socket, 'GET', `/tasks?filters=${q({ service: services.map((s) => s.ID) })}`)
    : [];
  return { services, tasks };
}
const ACTIVE = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];
const isOneShot = (s) => s.Spec.Name.endsWith('_migrate');
/** Every update completed, every long-running task running, no migrate task active. */
function isSettled({ services, tasks }) {
  return services.every((s) => {
    const mine = tasks.filter((t) => t.ServiceID === s.ID);
    if (isOneShot(s)) return !mine.some((t) => ACTIVE.includes(t.Status.State));
    const want = s.Spec.Mode.Replicated?.Replicas ?? 1;
    const up = mine.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running').length;
    const starting = mine.some((t) => t.DesiredState === 'running' && t.Status.State !== 'running');
    const update = s.UpdateStatus?.State;
    return up === want && !starting && (update === undefined || update === 'completed');
  });
}
/** The peers' criterion, judged from the Engine API: migrate of tag complete, every other service on tag only. */
function peersDone({ services, tasks }, tag) {
  const isNew = (t) => t.Spec.ContainerSpec.Image.includes(`:${tag}@`);
  return services.every((s) => {
    const mine = tasks.filter((t) => t.ServiceID === s.ID);
    if (isOneShot(s)) return mine.some((t) => isNew(t) && t.Status.State === 'complete');
    const want = s.Spec.Mode.Replicated?.Replicas ?? 1;
    const running = mine.filter((t) => t.Status.State === 'running');
    return running.filter(isNew).length >= want && !running.some((t) => !isNew(t));
  });
}
/**
 * When Swarm itself had done what the peers' criterion asks (judged afterwards, on a settled stack, from
 * the tasks' status timestamps: the new tasks' running and migrate's complete, the old tasks' end): a
 * lower bound for any tool's verdict on this deploy.
 */
function swarmDoneAt({ services, tasks }, tag) {
  const isNew = (t) => t.Spec.ContainerSpec.Image.includes(`:${tag}@`);
  let at = 0;
  for (const s of services) {
    for (const t of tasks.filter((x) => x.ServiceID === s.ID)) {
      const when = Date.parse(t.Status.Timestamp);
      if (
        isOneShot(s)
          ? isNew(t) && t.Status.State === 'complete'
          : isNew(t)
            ? t.Status.State === 'running'
            : !ACTIVE.includes(t.Status.State)
      )
        at = Math.max(at, when);
    }
  }
  return at;
}
/**
 * When Swarm had given every verdict the action waits for (judged afterwards, on a settled stack): the
 * later of migrate's new task complete and the end of each long-running service's rolling update
 * (UpdateStatus.CompletedAt, after Swarm's update monitor). No tool that waits for Swarm's update
 * monitor, as the action does, can end before it.
 */
function swarmVerdictAt({ services, tasks }, tag) {
  const isNew = (t) => t.Spec.ContainerSpec.Image.includes(`:${tag}@`);
  let at = 0;
  for (const s of services) {
    if (isOneShot(s)) {
      for (const t of tasks.filter((x) => x.ServiceID === s.ID && isNew(x) && x.Status.State === 'complete'))
        at = Math.max(at, Date.parse(t.Status.Timestamp));
    } else if (s.UpdateStatus?.CompletedAt) at = Math.max(at, Date.parse(s.UpdateStatus.CompletedAt));
  }
  return at;
}
async function waitFor(what, seconds, fn) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await sleep(250);
  }
}
const settle = async (target, stack) => {
  await waitFor(`${stack} to settle`, 240, async () => isSettled(await stackState(target.socket, stack)));
  await sleep(500);
};

// ---------- Registry (HTTP API, basic auth) ----------
async function registry(reg, method, p, { headers = {}, body } = {}) {
  const auth = Buffer.from(`AWS:${registryPassword}`).toString('base64');
  const res = await fetch(`http://${reg}/v2/${p}`, {
    method,
    headers: { authorization: `Basic ${auth}`, ...headers },
    body,
  });
  if (res.status >= 400) throw new Error(`registry ${method} ${p}: ${res.status} ${await res.text()}`);
  return res;
}
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ');
/** A new tag of the run's image (the manifest put again under another name): a new version to deploy. */
async function newTag(target, label) {
  const tag = `bench-${RUN}-${label}`;
  const res = await registry(target.registry, 'GET', `${REPO}/manifests/${target.baseTag}`, {
    headers: { accept: MANIFEST_TYPES },
  });
  const body = Buffer.from(await res.arrayBuffer());
  await registry(target.registry, 'PUT', `${REPO}/manifests/${tag}`, {
    headers: { 'content-type': res.headers.get('content-type') },
    body,
  });
  return tag;
}

// ---------- Shell helpers ----------
const sh = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
const runnerWith = (opts, ...args) =>
  sh('docker', ['-H', sb.RUNNER_DOCKER_HOST, ...args], {
    env: { ...process.env, DOCKER_CONFIG: path.join(work, 'runner-docker-config') },
    ...opts,
  });
const runner = (...args) => runnerWith({}, ...args);
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.on('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

// ---------- The peers' transport: a second sshd whose sessions get DOCKER_HOST ----------
const sshds = [];
fs.mkdirSync(path.join(work, 'bin'));
fs.writeFileSync(
  path.join(work, 'ssh_config'),
  [
    'Host *',
    `  IdentityFile ${sb.SSH_KEY}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${path.join(work, 'known_hosts')}`,
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
    '',
  ].join('\n'),
);
fs.writeFileSync(path.join(work, 'known_hosts'), '');
fs.writeFileSync(
  path.join(work, 'bin/ssh'),
  `#!/bin/sh\nexec /usr/bin/ssh -F ${path.join(work, 'ssh_config')} "$@"\n`,
  { mode: 0o755 },
);
async function startPeerSshd(socket, name) {
  const port = await freePort();
  const pidFile = path.join(work, `sshd-${name}.pid`);
  const config = fs
    .readFileSync(path.join(sb.SANDBOX_DIR, 'ssh/sshd_config'), 'utf8')
    .replace(/^ListenAddress .*$/m, `ListenAddress 127.0.0.1:${port}`)
    .replace(/^PidFile .*$/m, `PidFile ${pidFile}`)
    .replace(/^LogLevel .*$/m, 'LogLevel ERROR');
  const configFile = path.join(work, `sshd-${name}.conf`);
  fs.writeFileSync(configFile, `${config.trimEnd()}\nSetEnv DOCKER_HOST=unix://${socket}\n`);
  fs.mkdirSync('/run/sshd', { recursive: true });
  sh('/usr/sbin/sshd', ['-f', configFile, '-E', path.join(work, `sshd-${name}.log`)]);
  await waitFor('the peers sshd pid file', 10, async () => fs.existsSync(pidFile));
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  sshds.push(pid);
  const hostKey = fs.readFileSync(sb.SSH_HOST_PUB, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  fs.appendFileSync(path.join(work, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  log(`peers' sshd for ${name} on 127.0.0.1:${port} (pid ${pid})`);
  return `ssh://root@127.0.0.1:${port}`;
}
const peerEnv = (target, vars = {}) => ({
  ...process.env,
  PATH: `${path.join(work, 'bin')}:/usr/local/bin:${process.env.PATH}`,
  DOCKER_HOST: target.peerHost,
  DOCKER_CONFIG: path.join(work, 'peer-docker-config'),
  ...vars,
});

// ---------- Targets: the single-node sandbox, the 3-node cluster ----------
const BASE_TAG = `bench-${RUN}-base`;
let imageId;
async function prepareTarget(target) {
  // The run's image in this target's registry, and the peers' login and secret on its manager.
  runnerWith({ input: registryPassword }, 'login', '-u', 'AWS', '--password-stdin', target.registry);
  runner('tag', imageId, `${target.registry}/${REPO}:${BASE_TAG}`);
  runner('push', '-q', `${target.registry}/${REPO}:${BASE_TAG}`);
  target.baseTag = BASE_TAG;
  target.peerHost = await startPeerSshd(target.socket, target.name);
  const t0 = Date.now();
  sh('docker', ['version', '--format', '{{.Server.Version}}'], { env: peerEnv(target) });
  target.cliCallSeconds = (Date.now() - t0) / 1000;
  sh('docker', ['login', '-u', 'AWS', '--password-stdin', target.registry], {
    env: peerEnv(target),
    input: registryPassword,
  });
  target.peerSecret = 'bench_peer_secret_key';
  const exists = (
    await api(target.socket, 'GET', `/secrets?filters=${q({ name: [target.peerSecret] })}`)
  ).some((s) => s.Spec.Name === target.peerSecret);
  if (!exists)
    await api(target.socket, 'POST', '/secrets/create', {
      Name: target.peerSecret,
      Labels: { 'bench.peers': RUN },
      Data: Buffer.from(fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim()).toString('base64'),
    });
  target.prepared = true;
}

// ---------- Stacks ----------
function generatedStack(n) {
  const svc = (name, command, extra = '') =>
    `  ${name}:\n    image: \${ECR_REGISTRY}/${REPO}:\${APP_VERSION}\n    command: ['${command}']\n` +
    `    deploy:\n      endpoint_mode: dnsrr\n${extra}`;
  const longRunning = '      update_config: { monitor: 1s }\n';
  const lines = ["version: '3.7'", 'services:'];
  // db (migrate needs it), n - 2 more small long-running services (the same tiny nc server, which stops
  // at once on SIGTERM), and migrate: n services in all.
  lines.push(svc('db', 'db', longRunning).trimEnd());
  for (let i = 1; i <= n - 2; i++)
    lines.push(svc(`s${String(i).padStart(2, '0')}`, 'db', longRunning).trimEnd());
  lines.push(
    svc(
      'migrate',
      'migrate',
      '      restart_policy: { condition: on-failure, delay: 1s, max_attempts: 3 }\n',
    ).trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** One run of the action; its deploy-to-verdict and wait statistics. */
async function actionRound(target, scen, tag, main) {
  const inputs = fixtureInputs(sb, {
    'stack-name': scen.stack,
    build: 'false',
    'image-tag': tag,
    acceptance: 'false',
    'remote-docker-socket': target.socket,
    ...(scen.fixture
      ? { 'stack-env': `PREVIEW_PORT=${scen.port}` }
      : { 'stack-file': scen.fileName, 'stack-secrets': '' }),
  });
  const r = await runAction({
    main,
    inputs,
    sha: randomSha(),
    env: { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true', AWS_ENDPOINT_URL_ECR: target.ecr },
    files: scen.fixture ? {} : { [scen.fileName]: scen.text },
  });
  if (r.exitCode !== 0) throw new Error(`action failed (${scen.stack}, ${tag}):\n${r.log.slice(-3000)}`);
  const deployLine = r.lines.find((l) => l.text.startsWith('::group::Stack deploy'));
  const waits = r.lines
    .map((l) => ({
      at: l.at,
      m: /^::debug::waited ([\d.]+) s for (.*): (\d+) polls, (\d+) Engine API calls/.exec(l.text),
    }))
    .filter((w) => w.m)
    .map((w) => ({ at: w.at, seconds: +w.m[1], what: w.m[2], polls: +w.m[3], calls: +w.m[4] }));
  if (!deployLine || waits.length !== 2) throw new Error(`unexpected action log:\n${r.log.slice(-3000)}`);
  const migrated = r.lines.find((l) => l.text.startsWith(`${scen.stack}_migrate: complete`));
  const serving = r.lines.find((l) => l.text.endsWith(': all tasks run the new spec'));
  const end = Math.max(...waits.map((w) => w.at));
  return {
    startAt: deployLine.at,
    convergeMsPerPoll: (1000 * waits[1].seconds) / waits[1].polls,
    seconds: (end - deployLine.at) / 1000,
    serving: (Math.max(migrated.at, serving.at) - deployLine.at) / 1000,
    whole: r.mainSeconds,
    polls: waits.map((w) => w.polls),
    calls: waits.map((w) => w.calls),
  };
}

function peerVars(target, scen, tag) {
  return {
    ECR_REGISTRY: target.registry,
    APP_VERSION: tag,
    ...(scen.fixture ? { SECRET_KEY_SECRET: target.peerSecret, PREVIEW_PORT: String(scen.port) } : {}),
  };
}

/** bench/peer-deploy-wait.sh with the given interval: spawn to exit. */
async function peerRound(target, scen, tag, interval) {
  const start = Date.now();
  const child = spawn(
    'bash',
    [path.join(ROOT, 'bench/peer-deploy-wait.sh'), scen.stack, scen.file, tag, String(interval)],
    { env: peerEnv(target, peerVars(target, scen, tag)), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const seconds = (Date.now() - start) / 1000;
  if (code !== 0)
    throw new Error(`peer way failed (${scen.stack}, ${tag}, exit ${code}):\n${err.slice(-3000)}`);
  const done = /done polls=(\d+) cli_calls=(\d+) deploy_s=([\d.]+) wait_s=([\d.]+)/.exec(err);
  const checks = [...err.matchAll(/^check \d+ ([\d.]+) s:/gm)].map((m) => +m[1]);
  return {
    startAt: start,
    seconds,
    polls: +done[1],
    cliCalls: +done[2],
    deploy: +done[3],
    checkSeconds: median(checks),
  };
}

/** docker stack deploy --detach=false: does it return, and when. */
async function detachFalse(target, scen, tag) {
  const start = Date.now();
  const child = spawn(
    'docker',
    ['stack', 'deploy', '--with-registry-auth', '--detach=false', '-c', scen.file, scen.stack],
    { env: peerEnv(target, peerVars(target, scen, tag)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let code;
  let closedAt;
  child.on('close', (c, signal) => {
    code = c ?? signal;
    closedAt = Date.now();
  });
  let doneAt;
  let criterionAt;
  for (;;) {
    await sleep(250);
    const elapsed = (Date.now() - start) / 1000;
    if (code !== undefined) {
      // It returned: when was the stack done (before, or only after)?
      await waitFor('the stack to be done', 120, async () => {
        const state = await stackState(target.socket, scen.stack);
        if (!criterionAt && peersDone(state, tag)) criterionAt = Date.now();
        if (!doneAt && peersDone(state, tag) && isSettled(state)) doneAt = Date.now();
        return doneAt;
      }).catch(() => {});
      return {
        returned: true,
        seconds: (closedAt - start) / 1000,
        exit: code,
        doneAt: doneAt && (doneAt - start) / 1000,
        criterionAt: criterionAt && (criterionAt - start) / 1000,
        swarm: (swarmDoneAt(await stackState(target.socket, scen.stack), tag) - start) / 1000,
        tail: withoutColours(out).trim().split(/\r?\n/).slice(-2).join(' | ').slice(-400),
      };
    }
    if (!doneAt) {
      const state = await stackState(target.socket, scen.stack).catch(() => undefined);
      if (state && !criterionAt && peersDone(state, tag)) criterionAt = Date.now();
      if (state && peersDone(state, tag) && isSettled(state)) doneAt = Date.now();
    }
    if ((doneAt && Date.now() - doneAt > DETACH_GRACE * 1000) || elapsed > 240) {
      child.kill('SIGTERM');
      await new Promise((resolve) => (code !== undefined ? resolve() : child.on('close', resolve)));
      return {
        returned: false,
        seconds: elapsed,
        doneAt: doneAt && (doneAt - start) / 1000,
        criterionAt: criterionAt && (criterionAt - start) / 1000,
        tail: withoutColours(out).trim().split(/\r?\n/).slice(-4).join(' | ').slice(-400),
      };
    }
  }
}

/** What docker-stack-wait itself would make of migrate once it completed (from the Engine API). */
async function dswView(target, stack) {
  const { services, tasks } = await stackState(target.socket, stack);
  const m = services.find(isOneShot);
  const running = tasks.filter((t) => t.ServiceID === m.ID && t.Status.State === 'running').length;
  return `UpdateStatus ${m.UpdateStatus?.State ?? '(none)'}, replicas ${running}/${m.Spec.Mode.Replicated?.Replicas}`;
}

async function removeStack(target, stack) {
  const services = await stackServices(target.socket, stack).catch(() => []);
  for (const s of services) await api(target.socket, 'DELETE', `/services/${s.ID}`).catch(() => {});
  await waitFor(`${stack}'s containers to go`, 120, async () => {
    const cs = await api(
      target.socket,
      'GET',
      `/containers/json?all=1&filters=${q({ label: [`com.docker.stack.namespace=${stack}`] })}`,
    );
    return cs.length === 0;
  }).catch((e) => log(`warning: ${e.message}`));
  const nets = await api(
    target.socket,
    'GET',
    `/networks?filters=${q({ label: [`com.docker.stack.namespace=${stack}`] })}`,
  );
  for (const n of nets) {
    await waitFor(`network ${n.Name} to go`, 30, async () => {
      await api(target.socket, 'DELETE', `/networks/${n.Id}`);
      return true;
    }).catch((e) => log(`warning: ${e.message}`));
  }
  const secrets = await api(
    target.socket,
    'GET',
    `/secrets?filters=${q({ label: [`com.github.ecr-swarm-deploy.stack=${stack}`] })}`,
  );
  for (const s of secrets) await api(target.socket, 'DELETE', `/secrets/${s.ID}`).catch(() => {});
}

async function runScenario(target, scen) {
  const c0 = Date.now();
  sh('docker', ['version', '--format', '{{.Server.Version}}'], { env: peerEnv(target) });
  scen.cliCall = (Date.now() - c0) / 1000;
  scen.load = os.loadavg()[0];
  log(
    `== ${scen.title} on ${target.label}: stack ${scen.stack}; one CLI call through ssh ${scen.cliCall.toFixed(2)} s, load ${scen.load.toFixed(1)}`,
  );
  if (!scen.fixture) {
    scen.file = path.join(work, scen.fileName);
    fs.writeFileSync(scen.file, scen.text);
  }
  scen.createdOn = target;
  // Warm-up (untimed): the stack's first deploy, by the action.
  const t0 = Date.now();
  await actionRound(target, scen, await newTag(target, `${scen.stack}-0`), bundles.after);
  await settle(target, scen.stack);
  log(`created ${scen.stack} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const rows = [];
  const kinds = ['action', ...(BASE ? ['before'] : []), ...(PEERS ? ['peer5', 'peer1'] : [])];
  const createdIn = (Date.now() - t0) / 1000;
  let longestRound = 3 * createdIn;
  for (let round = 1; round <= ROUNDS; round++) {
    // What must still fit in the share: this round, the --detach=false deploy (about a third of a round,
    // plus its grace) and the stack's removal.
    const left = scen.deadline - Date.now() / 1000;
    if (round > 1 && longestRound * 1.1 + longestRound / 3 + DETACH_GRACE + 15 > left) {
      log(`stopping ${scen.stack} after ${round - 1} rounds: the next would overrun its time share`);
      break;
    }
    const roundStart = Date.now();
    const row = {};
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(k + round - 1) % kinds.length];
      const tag = await newTag(target, `${scen.stack}-${round}-${kind}`);
      await settle(target, scen.stack);
      row[kind] =
        kind === 'action' || kind === 'before'
          ? await actionRound(target, scen, tag, bundles[kind === 'action' ? 'after' : 'before'])
          : await peerRound(target, scen, tag, kind === 'peer5' ? 5 : 1);
      await settle(target, scen.stack);
      const settled = await stackState(target.socket, scen.stack);
      row[kind].swarm = (swarmDoneAt(settled, tag) - row[kind].startAt) / 1000;
      row[kind].swarmVerdict = (swarmVerdictAt(settled, tag) - row[kind].startAt) / 1000;
      // Once the stack settled: what docker-stack-wait would read of migrate.
      if (kind.startsWith('peer')) (scen.dsw ??= new Set()).add(await dswView(target, scen.stack));
    }
    rows.push(row);
    longestRound =
      round === 1
        ? (Date.now() - roundStart) / 1000
        : Math.max(longestRound, (Date.now() - roundStart) / 1000);
    const said = (name, a) =>
      `${name} ${a.seconds.toFixed(2)} s (Swarm done ${a.swarm.toFixed(2)} s, lag ${(a.seconds - a.swarm).toFixed(2)} s; ` +
      `Swarm's updates completed ${a.swarmVerdict.toFixed(2)} s, lag ${(a.seconds - a.swarmVerdict).toFixed(2)} s; serving ${a.serving.toFixed(2)} s, whole run ${a.whole.toFixed(1)} s; ` +
      `polls ${a.polls.join('/')}, API calls ${a.calls.join('/')}, converge poll every ${(a.convergeMsPerPoll / 1000).toFixed(2)} s)`;
    const peer = (name, p) =>
      `${name} ${p.seconds.toFixed(2)} s (Swarm done ${p.swarm.toFixed(2)} s, ${p.polls} checks, deploy ${p.deploy.toFixed(2)} s, check ${p.checkSeconds.toFixed(2)} s)`;
    log(
      [
        `round ${round}: ${said('action', row.action)}`,
        ...(row.before ? [said('before', row.before)] : []),
        ...(row.peer5 ? [peer('peer 5 s', row.peer5), peer('peer 1 s', row.peer1)] : []),
      ].join(', '),
    );
  }
  let detach;
  if (PEERS) {
    const tag = await newTag(target, `${scen.stack}-detach`);
    await settle(target, scen.stack);
    detach = await detachFalse(target, scen, tag);
    log(`--detach=false: ${JSON.stringify(detach)}`);
    await settle(target, scen.stack).catch((e) => log(`warning: ${e.message}`));
  }
  await removeStack(target, scen.stack);
  scen.createdOn = undefined;
  return { scen, target, rows, detach };
}

// ---------- The 3-node cluster ----------
const clusterEnvFile = path.join(sb.SANDBOX_DIR, 'cluster/env');
let broughtClusterUp = false;
// cluster.test.ts (which brings the cluster up and down itself) or cluster.sh running: leave the cluster alone.
const clusterBusy = () =>
  spawnSync('pgrep', ['-af', 'cluster'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => /cluster\.(test|sh)/.test(l) && !l.includes('pgrep'));
async function clusterTarget() {
  if (!USE_CLUSTER) return undefined;
  const busy = clusterBusy();
  if (busy.length > 0) {
    log(`not using the cluster: ${busy.join('; ')}`);
    return undefined;
  }
  if (fs.existsSync(clusterEnvFile)) {
    log('not using the cluster: it is up already, and not ours');
    return undefined;
  }
  const t0 = Date.now();
  broughtClusterUp = true;
  const r = spawnSync('bash', [path.join(ROOT, 'e2e/cluster.sh'), 'up'], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0 || !fs.existsSync(clusterEnvFile)) {
    log(`cluster.sh up failed (${r.status}): ${(r.stderr ?? '').slice(-500)}`);
    return undefined;
  }
  log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const c = sandbox(path.join(sb.SANDBOX_DIR, 'cluster'));
  return {
    name: 'cluster',
    label: '3-node cluster',
    socket: c.CLUSTER_MANAGER_SOCKET,
    registry: c.CLUSTER_REGISTRY,
    ecr: c.CLUSTER_ECR_ENDPOINT,
  };
}

// ---------- Main ----------
// The bundles the action rounds run: the worktree's dist/, and with BENCH_BASE that commit's (dist/ is
// committed), written to a directory of the run's own.
const bundles = { after: undefined };
if (BASE) {
  fs.mkdirSync(path.join(work, 'before'));
  for (const file of ['index.js', 'package.json'])
    fs.writeFileSync(
      path.join(work, 'before', file),
      execFileSync('git', ['-C', ROOT, 'show', `${BASE}:dist/${file}`], { maxBuffer: 64 << 20 }),
    );
  bundles.before = path.join(work, 'before/index.js');
}
const single = {
  name: 'single',
  label: 'single node',
  socket: sb.MANAGER_SOCKET,
  registry: sb.REGISTRY,
  ecr: sb.ECR_ENDPOINT,
};
const targets = [single];
const results = [];
const scenarios = [];
let failure;
try {
  let port = 18080;
  while (!(await portFree(port))) port++;
  for (const s of SCENARIOS) {
    if (s === 'fixture')
      scenarios.push({
        key: s,
        title: 'fixture stack.yml (3 services)',
        stack: 'bench',
        fixture: true,
        port,
        file: path.join(ROOT, 'e2e/fixture/stack.yml'),
      });
    else
      scenarios.push({
        key: s,
        title: `${s} services`,
        stack: `bench${s}`,
        fileName: `bench${s}.yml`,
        text: generatedStack(Number(s)),
      });
  }
  log(`building the run's image (label bench.peers=${RUN})`);
  fs.mkdirSync(path.join(work, 'runner-docker-config'));
  imageId = runner('build', '-q', '--label', `bench.peers=${RUN}`, path.join(ROOT, 'e2e/fixture'))
    .trim()
    .split('\n')
    .pop();
  await prepareTarget(single);
  log(`one docker CLI call through ssh: ${single.cliCallSeconds.toFixed(2)} s`);
  for (const [i, scen] of scenarios.entries()) {
    const weight = (sc) => WEIGHTS[sc.key] ?? 2;
    const left = BUDGET - (Date.now() - started) / 1000;
    const share = (left * weight(scen)) / scenarios.slice(i).reduce((sum, sc) => sum + weight(sc), 0);
    scen.deadline = Date.now() / 1000 + share;
    let target = single;
    if (scen.key === '50') {
      const c = await clusterTarget();
      if (c) {
        targets.push(c);
        await prepareTarget(c);
        target = c;
      }
    }
    results.push(await runScenario(target, scen));
  }
} catch (e) {
  failure = e;
  console.error(e);
} finally {
  log('cleaning up');
  for (const scen of scenarios)
    if (scen.createdOn)
      await removeStack(scen.createdOn, scen.stack).catch((e) => log(`warning: ${e.message}`));
  for (const t of targets.filter((t) => t.prepared)) {
    await api(t.socket, 'DELETE', `/secrets/${t.peerSecret}`).catch((e) => log(`warning: ${e.message}`));
    // The run's image on the manager (pulled by its tasks): ours alone, by its unique label.
    const imgs = await api(
      t.socket,
      'GET',
      `/images/json?filters=${q({ label: [`bench.peers=${RUN}`] })}`,
    ).catch(() => []);
    for (const i of imgs) await api(t.socket, 'DELETE', `/images/${i.Id}?force=1`).catch(() => {});
  }
  for (const pid of sshds) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  // The run's tags in the sandbox registry: its manifest (unique to this run) deleted by digest.
  try {
    const res = await registry(sb.REGISTRY, 'HEAD', `${REPO}/manifests/${BASE_TAG}`, {
      headers: { accept: MANIFEST_TYPES },
    });
    await registry(sb.REGISTRY, 'DELETE', `${REPO}/manifests/${res.headers.get('docker-content-digest')}`);
  } catch (e) {
    log(`warning: registry clean-up: ${e.message}`);
  }
  if (imageId)
    spawnSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, 'image', 'rm', '-f', imageId], { stdio: 'ignore' });
  if (broughtClusterUp) {
    const busy = clusterBusy();
    if (busy.length > 0) log(`cluster left up: ${busy.join('; ')}`);
    else
      spawnSync('bash', [path.join(ROOT, 'e2e/cluster.sh'), 'down'], { stdio: 'inherit', timeout: 120_000 });
  }
  fs.rmSync(work, { recursive: true, force: true });
}

// ---------- Report ----------
const f = (x) => (x === undefined ? '-' : x.toFixed(2));
console.log(
  `\nBENCH_ROUNDS=${ROUNDS}, BENCH_BUDGET=${BUDGET}; deploy-to-verdict, median over rounds (s); ratios: median of each round's ratio`,
);
if (PEERS) {
  console.log(
    '| Scenario | Rounds | Action | Action "serving" | Peer 5 s poll | Peer 1 s poll | --detach=false | Action / peer 5 s | Action / peer 1 s | Action API calls per poll | Action polls (one-shot/converge) | Peer check (2 CLI calls) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { scen, target, rows, detach } of results) {
    const col = (k, fn) => median(rows.map((r) => fn(r[k])));
    const ratio = (k) => median(rows.map((r) => r.action.seconds / r[k].seconds));
    const callsPerPoll = median(rows.flatMap((r) => r.action.calls.map((c, i) => c / r.action.polls[i])));
    const polls = [0, 1].map((i) => median(rows.map((r) => r.action.polls[i])));
    const d = detach.returned
      ? `returned after ${f(detach.seconds)} s, exit ${detach.exit} (Swarm done at ${f(detach.swarm)} s, settled at ${f(detach.doneAt)} s)`
      : `no return: killed at ${f(detach.seconds)} s, ${f(detach.seconds - detach.doneAt)} s after the stack was done (${f(detach.doneAt)} s)`;
    console.log(
      `| ${scen.title}, ${target.label} | ${rows.length} | ${f(col('action', (a) => a.seconds))} | ${f(col('action', (a) => a.serving))} | ` +
        `${f(col('peer5', (p) => p.seconds))} | ${f(col('peer1', (p) => p.seconds))} | ${d} | ${f(ratio('peer5'))}x | ${f(ratio('peer1'))}x | ` +
        `${callsPerPoll} | ${polls.join('/')} | ${f(col('peer1', (p) => p.checkSeconds))} s |`,
    );
  }
  for (const { scen, detach, rows } of results) {
    console.log(
      `${scen.stack}: one docker CLI call (docker version) through ssh before the scenario ${f(scen.cliCall)} s, load average ${scen.load.toFixed(1)} (2 cores); ` +
        `peer checks (5 s / 1 s) median ${median(rows.map((r) => r.peer5.polls))} / ${median(rows.map((r) => r.peer1.polls))}; ` +
        `peer stack deploy command ${f(median(rows.flatMap((r) => [r.peer5.deploy, r.peer1.deploy])))} s; action whole run ${f(median(rows.map((r) => r.action.whole)))} s; ` +
        `Swarm done (lower bound) action / peer 5 s / peer 1 s rounds: ${['action', 'peer5', 'peer1'].map((k) => f(median(rows.map((r) => r[k].swarm)))).join(' / ')} s; ` +
        `lag after it: ${['action', 'peer5', 'peer1'].map((k) => f(median(rows.map((r) => r[k].seconds - r[k].swarm)))).join(' / ')} s; ` +
        `action converge poll every ${f(median(rows.map((r) => r.action.convergeMsPerPoll)) / 1000)} s; ` +
        `lower bound / peer 1 s: ${f(median(rows.map((r) => r.action.swarm / r.peer1.seconds)))}x`,
    );
    console.log(`${scen.stack}: --detach=false output: ${detach.tail}`);
    console.log(
      `${scen.stack}: migrate after the peers' deploys, once settled, as docker-stack-wait would read it: ${[...(scen.dsw ?? [])].join('; ')}`,
    );
  }
}
// The action's lag: its verdict after Swarm's "done" (swarmDoneAt), and after Swarm's last update
// completed (swarmVerdictAt); with BENCH_BASE, for the earlier bundle too, rounds in alternating order.
console.log(
  "\n| Scenario | Bundle | Rounds | Deploy to verdict | Swarm done | Lag after Swarm done | Lag after Swarm's updates completed | Converge poll every | Polls (one-shot/converge) |",
);
console.log('|---|---|---|---:|---:|---:|---:|---:|---|');
for (const { scen, target, rows } of results) {
  for (const [kind, name] of [
    ['before', `before (${BASE})`],
    ['action', 'after (dist/)'],
  ]) {
    if (!rows[0]?.[kind]) continue;
    const col = (fn) => f(median(rows.map((r) => fn(r[kind]))));
    const polls = [0, 1].map((i) => median(rows.map((r) => r[kind].polls[i])));
    console.log(
      `| ${scen.title}, ${target.label} | ${name} | ${rows.length} | ${col((a) => a.seconds)} | ${col((a) => a.swarm)} | ` +
        `${col((a) => a.seconds - a.swarm)} | ${col((a) => a.seconds - a.swarmVerdict)} | ${col((a) => a.convergeMsPerPoll / 1000)} | ${polls.join('/')} |`,
    );
  }
  console.log(
    `${scen.stack}: per round, lag after Swarm done: ${rows
      .map((r) =>
        ['before', 'action']
          .filter((k) => r[k])
          .map((k) => `${k} ${f(r[k].seconds - r[k].swarm)}`)
          .join(' '),
      )
      .join('; ')}`,
  );
}
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (failure) process.exitCode = 1;
