// Cold-runner rebuild (issue 14, item 1): a code-only change built on a runner whose Docker starts
// empty, as a hosted runner's does. Per round, each on a freshly wiped engine:
//   1. the action (dist/index.js, as the runner runs it) with cache: true (the default),
//   2. the action with cache: 'false',
//   3. the hand-written command for the same builder, after the same ECR login:
//      docker pull REPO:buildcache || true
//      docker build --cache-from REPO:buildcache --build-arg BUILDKIT_INLINE_CACHE=1 -t REPO:TAG . && docker push REPO:TAG
//   3b. the same command with the action's four OCI --label flags (what labels cost this builder).
// For the action, only its "Build and push" phase counts (its log group, from the timestamped lines);
// the hand-written command's time is its three commands' (pull, build, push), back to back.
//
// The runner engine is a dockerd of this script's own (/tmp/bench-cold: data-root, exec-root, pidfile,
// socket; a bridge br-bench-cold of its own, as the sandbox's runner has br-esd-runner), wiped before
// every measured build (image prune -af, builder prune -af), stopped by its PID at the end. The sandbox's
// runner and manager engines are only read from (the base image, docker save) and deployed to (stack
// bench-cold, one service with no replicas, removed at the end).
//
// node bench/cold-build.mjs   (root; the sandbox up)
// BENCH_ROUNDS=N (default 3). BENCH_CLI=28 (default: the CLI first on PATH, as the action finds it:
// Docker 28 without buildx, the classic builder) or BENCH_CLI=20-buildkit (docker build by Debian's
// 20.10 client with DOCKER_BUILDKIT=1, standing in for buildx, through the sandbox's buildkit-cli
// docker; the hand-written command alike). BENCH_CHAIN=N (with
// BENCH_CLI=20-buildkit): instead of the rounds, N cold BuildKit builds in a row that each read and move
// a cache tag, with and without a docker pull of it first (see inlineChain).
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from '../e2e/credentials.mjs';
import { fixtureInputs, makeWorkspace, runAction, sandbox, ROOT } from '../e2e/run-action.mjs';

const sb = sandbox();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLI = process.env.BENCH_CLI ?? '28';
const CLI_ENV = {
  28: {},
  '20-buildkit': { PATH: `${sb.BUILDKIT_CLI_DIR}:${process.env.PATH}` },
}[CLI];
if (!CLI_ENV) throw new Error(`BENCH_CLI must be 28 or 20-buildkit, not ${CLI}`);
const REPO_NAME = 'bench-cold';
const STACK = 'bench-cold';
const REPO = `${sb.REGISTRY}/${REPO_NAME}`;
const BASE = `${sb.REGISTRY}/bench-cold-base:1`;
const WORK = '/tmp/bench-cold';
const COLD_HOST = `unix://${WORK}/docker.sock`;
const BRIDGE = 'br-bench-cold';
const BRIDGE_ADDR = '192.168.83.1/24';
const HAND_CONFIG = path.join(WORK, 'hand-docker-config');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const randomSha = () => crypto.randomBytes(20).toString('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const app = (name) =>
  fs
    .readFileSync(path.join(ROOT, 'bench/cold-app', name), 'utf8')
    .replaceAll('127.0.0.1:5000/', `${sb.REGISTRY}/`);
/** The docker CLI the action finds, with the environment of the chosen CLI. */
const cliEnv = (extra = {}) => ({ ...process.env, ...CLI_ENV, ...extra });
const docker = (args, opts = {}) =>
  execFileSync('docker', args, { encoding: 'utf8', env: cliEnv({ DOCKER_HOST: COLD_HOST }), ...opts });

// ---- the cold runner: a dockerd of our own ----
let dockerd;
function startDockerd() {
  const pidfile = path.join(WORK, 'docker.pid');
  if (fs.existsSync(pidfile)) {
    const old = Number(fs.readFileSync(pidfile, 'utf8'));
    let running = false;
    try {
      process.kill(old, 0);
      running = true;
    } catch {
      // gone already
    }
    if (running)
      throw new Error(`a bench dockerd (PID ${old}) still runs from an earlier run: stop it first`);
  }
  unmountUnder(WORK);
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  // A bridge of its own, like the sandbox runner's br-esd-runner: RUN steps need the default network,
  // and docker0 belongs to the manager's engine. No iptables rules, no masquerading: nothing but loopback.
  try {
    execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' }); // left by an interrupted run
  } catch {
    // gone already
  }
  execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', BRIDGE_ADDR, 'dev', BRIDGE]);
  execFileSync('ip', ['link', 'set', BRIDGE, 'up']);
  const log = fs.openSync(path.join(WORK, 'dockerd.log'), 'a');
  // The sandbox runner's flags (sandbox.sh start_dockerd runner): 127.0.0.1:5000 needs no
  // --insecure-registry (loopback registries are trusted as plain HTTP), the cluster's address does.
  dockerd = spawn(
    'dockerd',
    [
      '--data-root',
      `${WORK}/data`,
      '--exec-root',
      `${WORK}/exec`,
      '--pidfile',
      pidfile,
      '-H',
      COLD_HOST,
      '--bridge',
      BRIDGE,
      '--iptables=false',
      '--ip-masq=false',
      '--insecure-registry',
      '192.168.77.1:5000',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  console.log(`bench dockerd PID ${dockerd.pid} on ${COLD_HOST}`);
}

async function waitForDockerd() {
  for (let i = 0; i < 300; i++) {
    try {
      docker(['version'], { stdio: 'ignore' });
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`the bench dockerd did not start: see ${WORK}/dockerd.log`);
}

function unmountUnder(dir) {
  const mounts = fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      // gone already
    }
  }
}

async function stopDockerd() {
  if (dockerd?.pid) {
    try {
      process.kill(dockerd.pid, 'SIGTERM');
    } catch {
      // gone already
    }
    for (let i = 0; i < 150 && dockerd.exitCode === null && dockerd.signalCode === null; i++)
      await sleep(100);
    if (dockerd.exitCode === null && dockerd.signalCode === null) {
      try {
        process.kill(dockerd.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await sleep(500);
    }
    console.log(`bench dockerd PID ${dockerd.pid} stopped`);
  }
  unmountUnder(WORK);
  try {
    execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
  } catch {
    // gone already
  }
  fs.rmSync(WORK, { recursive: true, force: true });
}

/** What a new hosted runner has: no image, no build cache. */
function wipe() {
  docker(['image', 'prune', '-af'], { stdio: 'ignore' });
  docker(['builder', 'prune', '-af'], { stdio: 'ignore' });
  const left = docker(['images', '-aq']).trim();
  if (left) throw new Error(`images left on the cold runner after the wipe: ${left}`);
}

// ---- the registry side ----
const ecr = () =>
  new ECRClient({
    region: 'us-east-1',
    endpoint: sb.ECR_ENDPOINT,
    credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY },
  });

async function ecrSetUp() {
  const client = ecr();
  try {
    for (const name of [REPO_NAME, 'bench-cold-base']) {
      try {
        await client.send(new CreateRepositoryCommand({ repositoryName: name }));
      } catch (e) {
        if (e.name !== 'RepositoryAlreadyExistsException') throw e;
      }
    }
    // The hand-written command's login: the same ECR token the action logs in with.
    const { authorizationData } = await client.send(new GetAuthorizationTokenCommand({}));
    const [user, password] = Buffer.from(authorizationData[0].authorizationToken, 'base64')
      .toString()
      .split(':');
    fs.mkdirSync(HAND_CONFIG, { recursive: true });
    docker(['--config', HAND_CONFIG, 'login', '-u', user, '--password-stdin', sb.REGISTRY], {
      input: password,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
  } finally {
    client.destroy();
  }
}

function registryApi(repo, method, apiPath, headers = {}) {
  const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
  return fetch(`http://${sb.REGISTRY}/v2/${repo}/${apiPath}`, {
    method,
    headers: { ...headers, authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` },
  });
}

/** REPO:tag's manifest and config, as the registry holds them: layer sizes, inline cache metadata. */
async function inspectInRegistry(tag) {
  const res = await registryApi(REPO_NAME, 'GET', `manifests/${tag}`, {
    accept:
      'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
  });
  if (res.status !== 200) return undefined;
  const manifest = await res.json();
  const config = await (await registryApi(REPO_NAME, 'GET', `blobs/${manifest.config.digest}`)).json();
  const layers = manifest.layers.map((l) => l.size);
  return {
    mediaType: manifest.mediaType,
    layers: layers.length,
    mb: layers.reduce((a, b) => a + b, 0) / 1e6,
    inlineCache: 'moby.buildkit.cache.v0' in config,
    inlineCacheBytes: (config['moby.buildkit.cache.v0'] ?? '').length,
    // BuildKit's inline cache: cache records (one per step's cache key), and those that name the
    // layer holding the step's result; a record without one can match but gives nothing to reuse.
    ...inlineRecords(config['moby.buildkit.cache.v0']),
  };
}

function inlineRecords(value) {
  if (!value) return {};
  const records = JSON.parse(Buffer.from(value, 'base64').toString());
  return { records: records.length, withLayers: records.filter((r) => r.layers?.length).length };
}

const describeCache = (c) =>
  !c
    ? 'none'
    : `${c.layers} layers, ${c.mb.toFixed(1)} MB, inline cache metadata ` +
      (c.inlineCache
        ? `${c.inlineCacheBytes} B, ${c.withLayers} of ${c.records} records with a layer`
        : 'none');

// ---- the builds ----
const workspaceFiles = () => ({
  Dockerfile: app('Dockerfile'),
  'stack.yml': app('stack.yml').replaceAll('/bench-cold:', `/${REPO_NAME}:`),
  'src/change.txt': `${randomSha()}\n`, // the code-only change
});

/** How many steps the builder took from its cache, and whether it ran the dependency layer again. */
function layerReport(log) {
  if (CLI === '28') {
    const deps = /Step \d+\/\d+ : RUN set -e[^\n]*\n ---> (Using cache|Running in)/.exec(log);
    return {
      cached: (log.match(/^ ---> Using cache$/gm) ?? []).length,
      depsRebuilt: deps?.[1] === 'Running in',
    };
  }
  const step = /^#(\d+) \[[^\]]*\] RUN set -e/m.exec(log)?.[1];
  return {
    cached: (log.match(/^#\d+ CACHED$/gm) ?? []).length,
    depsRebuilt: step !== undefined && !new RegExp(`^#${step} CACHED$`, 'm').test(log),
  };
}

/**
 * From the builder's timestamped output lines: the seconds from the code's COPY to the end of the
 * build (every step the code change invalidates), and (classic builder) from the first LABEL step
 * (--label: the classic builder adds one LABEL step per label, each a container committed) to the end.
 */
function stepTimes(lines) {
  const at = (re) => lines.find((l) => re.test(l.text))?.at;
  const end = at(/^(Successfully built |#\d+ writing image )/);
  const copy = at(/^(Step \d+\/\d+ : COPY src |#\d+ \[\d+\/\d+\] COPY src )/);
  const label = at(/^Step \d+\/\d+ : LABEL /);
  return {
    afterCode: copy && end ? (end - copy) / 1000 : undefined,
    labels: label && end ? (end - label) / 1000 : 0,
    labelSteps: lines.filter((l) => /^Step \d+\/\d+ : LABEL /.test(l.text)).length,
  };
}

async function actionBuild(cache) {
  const sha = randomSha();
  const inputs = fixtureInputs(sb, {
    'ecr-repository': REPO_NAME,
    'stack-name': STACK,
    'one-shot-services': 'none',
    acceptance: 'false',
    'app-url': '',
    'acceptance-args': '',
    'stack-secrets': '',
    cache: cache ? 'true' : 'false',
  });
  const r = await runAction({
    inputs,
    sha,
    files: workspaceFiles(),
    env: { ...CLI_ENV, DOCKER_HOST: COLD_HOST },
  });
  if (r.exitCode !== 0) throw new Error(`the action failed (cache ${cache}):\n${r.log}`);
  const at = (pred, from = 0) => {
    const i = r.lines.findIndex((l, j) => j >= from && pred(l.text));
    return i < 0 ? [i, undefined] : [i, r.lines[i].at];
  };
  const [start, startAt] = at((t) => t.startsWith('::group::Build and push'));
  const [end, endAt] = at((t) => t.startsWith('::endgroup::'), start);
  const [, buildAt] = at((t) => /^\[command\]\S*docker build /.test(t), start);
  const [, pushAt] = at((t) => /^\[command\]\S*docker push /.test(t), start);
  const [, cachePushAt] = at((t) => /^\[command\]\S*docker push \S+:buildcache$/.test(t), start);
  const phaseLog = r.lines
    .slice(start, end + 1)
    .map((l) => l.text)
    .join('\n');
  fs.rmSync(r.dir, { recursive: true, force: true });
  return {
    seconds: (endAt - startAt) / 1000,
    // Group start to the build command: builder detection, the cache pull (classic), git log.
    beforeBuild: (buildAt - startAt) / 1000,
    build: (pushAt - buildAt) / 1000,
    push: ((cachePushAt ?? endAt) - pushAt) / 1000,
    cachePush: cachePushAt ? (endAt - cachePushAt) / 1000 : 0,
    cachePull: /Build cache: pulled \S+ in ([\d.]+) s/.exec(phaseLog)?.[1],
    whole: r.mainSeconds,
    layers: layerReport(phaseLog),
    steps: stepTimes(r.lines.slice(start, end + 1)),
    labels: {
      'org.opencontainers.image.created': /LABEL org.opencontainers.image.created=(\S+)/.exec(phaseLog)?.[1],
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.example/example/todobackend',
    },
    log: phaseLog,
  };
}

/** The OCI labels the action gives a build (it takes created from the commit, made at a fixed time). */
const labelsNow = () => ({
  'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
  'org.opencontainers.image.source': 'https://github.example/example/todobackend',
});

/** The user's repository as runAction makes it: the fixture app, plus files, committed. */
const handWorkspace = (files) => makeWorkspace(fs.mkdtempSync(path.join(WORK, 'hand-')), files);

/** Runs the docker CLI as a shell would (output captured), timed. */
function timed(args, cwd) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('docker', args, {
      cwd,
      env: cliEnv({ DOCKER_HOST: COLD_HOST, DOCKER_CONFIG: HAND_CONFIG }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const lines = [];
    const onData = (d) => {
      out += d;
      for (const text of String(d).split('\n')) if (text) lines.push({ at: Date.now(), text });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => resolve({ code, out, lines, seconds: (Date.now() - started) / 1000 }));
  });
}

/**
 * The hand-written command; with labels (the action's OCI labels, as --label flags), the same command
 * plus what the action adds to the build: it tells what the labels cost this builder.
 */
async function handBuild(labels) {
  const dir = handWorkspace(workspaceFiles());
  const sha = randomSha();
  const tag = sha.slice(0, 7);
  const labelArgs = labels
    ? Object.entries({
        ...labels,
        'org.opencontainers.image.revision': sha,
        'org.opencontainers.image.version': tag,
      }).flatMap(([k, v]) => ['--label', `${k}=${v}`])
    : [];
  // docker pull REPO:buildcache || true
  const pull = await timed(['pull', `${REPO}:buildcache`], dir);
  // docker build --cache-from REPO:buildcache --build-arg BUILDKIT_INLINE_CACHE=1 -t REPO:TAG . && docker push REPO:TAG
  const build = await timed(
    [
      'build',
      '--cache-from',
      `${REPO}:buildcache`,
      '--build-arg',
      'BUILDKIT_INLINE_CACHE=1',
      '-t',
      `${REPO}:${tag}`,
      ...labelArgs,
      '.',
    ],
    dir,
  );
  if (build.code !== 0) throw new Error(`hand-written build failed:\n${build.out}`);
  const push = await timed(['push', `${REPO}:${tag}`], dir);
  if (push.code !== 0) throw new Error(`hand-written push failed:\n${push.out}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    seconds: pull.seconds + build.seconds + push.seconds,
    pull: pull.seconds,
    pulled: pull.code === 0,
    build: build.seconds,
    push: push.seconds,
    layers: layerReport(build.out),
    steps: stepTimes(build.lines),
    log: build.out,
  };
}

/**
 * BENCH_CHAIN=N (BuildKit): N cold builds in a row, each reading and moving a cache tag of its own, as
 * the action does (build --cache-from TAG with BUILDKIT_INLINE_CACHE=1, tagged TAG too, pushed), once
 * as now (BuildKit imports the cache from the registry) and once with a docker pull of the cache first.
 */
async function inlineChain(n) {
  for (const pullFirst of [false, true]) {
    const cacheTag = pullFirst ? 'buildcache-pulled' : 'buildcache-lazy';
    const results = [];
    for (let i = 1; i <= n; i++) {
      wipe();
      const dir = handWorkspace(workspaceFiles());
      const tag = randomSha().slice(0, 7);
      const pull = pullFirst ? await timed(['pull', `${REPO}:${cacheTag}`], dir) : { seconds: 0 };
      const build = await timed(
        [
          'build',
          '--cache-from',
          `${REPO}:${cacheTag}`,
          '--build-arg',
          'BUILDKIT_INLINE_CACHE=1',
          '-t',
          `${REPO}:${tag}`,
          '-t',
          `${REPO}:${cacheTag}`,
          '.',
        ],
        dir,
      );
      if (build.code !== 0) throw new Error(`chain build failed:\n${build.out}`);
      const push = await timed(['push', `${REPO}:${tag}`], dir);
      const pushCache = await timed(['push', `${REPO}:${cacheTag}`], dir);
      fs.rmSync(dir, { recursive: true, force: true });
      const c = await inspectInRegistry(cacheTag);
      const seconds = pull.seconds + build.seconds + push.seconds + pushCache.seconds;
      results.push(
        `${layerReport(build.out).depsRebuilt ? 'deps REBUILT' : 'deps cached'} ${f(seconds)} s ` +
          `(pushed ${c.withLayers}/${c.records} records with a layer)`,
      );
    }
    console.log(
      `chain, ${pullFirst ? 'docker pull of the cache first' : 'no pull (as the action does)'}: ${results.join('; ')}`,
    );
  }
}

// ---- the run ----
const f = (x) => (x === undefined || Number.isNaN(Number(x)) ? '-' : Number(x).toFixed(1));
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    interrupted = true;
  });

const benchStarted = Date.now();
startDockerd();
try {
  await waitForDockerd();
  await ecrSetUp();
  // The base image: the sandbox's local/todobase:1 (read from the sandbox runner, not changed there),
  // pushed to the registry, from where each cold build pulls it as a hosted runner pulls its base.
  execFileSync(
    'bash',
    [
      '-c',
      `docker -H "$1" save local/todobase:1 | docker -H "$2" load >/dev/null`,
      '-',
      sb.RUNNER_DOCKER_HOST,
      COLD_HOST,
    ],
    { stdio: 'inherit' },
  );
  docker(['tag', 'local/todobase:1', BASE]);
  docker(['--config', HAND_CONFIG, 'push', BASE], { stdio: 'ignore' });
  console.log(
    `CLI ${CLI}: ${docker(['version', '--format', '{{.Client.Version}} (engine {{.Server.Version}})']).trim()}; ` +
      `action's builder: ${CLI === '28' ? 'classic (docker build --help offers no --secret)' : 'BuildKit'}`,
  );

  if (process.env.BENCH_CHAIN) await inlineChain(Number(process.env.BENCH_CHAIN));
  else await rounds();
  console.log(`bench took ${((Date.now() - benchStarted) / 1000).toFixed(0)} s`);
} finally {
  try {
    execFileSync('docker', ['-H', sb.MANAGER_DOCKER_HOST, 'stack', 'rm', STACK], { stdio: 'ignore' });
  } catch {
    // gone already
  }
  await stopDockerd();
}

async function rounds() {
  // The first build ever of the repository (or the last bench's cache): buildcache exists afterwards.
  wipe();
  const seed = await actionBuild(true);
  console.log(
    `seed build (action, cache): Build and push ${f(seed.seconds)} s, deps layer rebuilt: ${seed.layers.depsRebuilt}`,
  );

  const rows = [];
  for (let round = 1; round <= ROUNDS && !interrupted; round++) {
    // Each build on a wiped engine, after sync (the last build's and the wipe's writes on disk, not
    // in the next build's time); the order turns every round, so that none always comes first.
    const measure = async (fn) => {
      wipe();
      execFileSync('sync');
      return fn();
    };
    const m = {};
    const order = ['withCache', 'hand', 'handLabels', 'without'];
    for (let i = 0; i < order.length; i++) {
      const what = order[(i + round - 1) % order.length];
      if (what === 'withCache') {
        m.withCache = await measure(() => actionBuild(true));
        m.cacheImage = await inspectInRegistry('buildcache');
      } else if (what === 'hand') m.hand = await measure(() => handBuild());
      else if (what === 'handLabels') m.handLabels = await measure(() => handBuild(labelsNow()));
      else m.without = await measure(() => actionBuild(false));
    }
    const { withCache, without, hand, handLabels, cacheImage } = m;
    const row = { round, withCache, without, hand, handLabels, cacheImage };
    rows.push(row);
    const steps = (x) =>
      `code COPY to end ${f(x.steps.afterCode)} s` +
      (x.steps.labelSteps ? `, of which ${x.steps.labelSteps} LABEL steps ${f(x.steps.labels)} s` : '');
    console.log(
      `round ${round}: action+cache ${f(withCache.seconds)} s [before build ${f(withCache.beforeBuild)} (cache pull ${withCache.cachePull ?? '-'}), ` +
        `build ${f(withCache.build)} (${steps(withCache)}), push ${f(withCache.push)}, cache push ${f(withCache.cachePush)}; ` +
        `steps cached ${withCache.layers.cached}, deps rebuilt ${withCache.layers.depsRebuilt}]\n` +
        `  action cache:false ${f(without.seconds)} s [build ${f(without.build)}, push ${f(without.push)}; deps rebuilt ${without.layers.depsRebuilt}]\n` +
        `  hand-written ${f(hand.seconds)} s [pull ${f(hand.pull)}${hand.pulled ? '' : ' (failed)'}, build ${f(hand.build)} (${steps(hand)}), push ${f(hand.push)}; ` +
        `steps cached ${hand.layers.cached}, deps rebuilt ${hand.layers.depsRebuilt}]\n` +
        `  hand-written + the action's 4 --label flags ${f(handLabels.seconds)} s [pull ${f(handLabels.pull)}, build ${f(handLabels.build)} (${steps(handLabels)}), push ${f(handLabels.push)}]\n` +
        `  ratios: cache/no-cache ${(withCache.seconds / without.seconds).toFixed(2)}, action/hand ${(withCache.seconds / hand.seconds).toFixed(2)}, ` +
        `action/(hand + labels) ${(withCache.seconds / handLabels.seconds).toFixed(2)}; ` +
        `buildcache the action pushed: ${describeCache(cacheImage)}`,
    );
    if (process.env.BENCH_VERBOSE) console.log(withCache.log, '\n---- hand ----\n', hand.log);
  }

  const med = (fn) => median(rows.map(fn));
  console.log(`\n== cold-runner rebuild, CLI ${CLI}, ${rows.length} rounds (medians)`);
  console.log(`action, cache: true     Build and push ${f(med((r) => r.withCache.seconds))} s`);
  console.log(`action, cache: 'false'  Build and push ${f(med((r) => r.without.seconds))} s`);
  console.log(`hand-written command    ${f(med((r) => r.hand.seconds))} s`);
  console.log(`hand-written + labels   ${f(med((r) => r.handLabels.seconds))} s`);
  console.log(
    `build steps from the code's COPY to the end: action ${f(med((r) => r.withCache.steps.afterCode))} s ` +
      `(LABEL steps ${f(med((r) => r.withCache.steps.labels))} s), hand-written ${f(med((r) => r.hand.steps.afterCode))} s, ` +
      `hand-written + labels ${f(med((r) => r.handLabels.steps.afterCode))} s (LABEL steps ${f(med((r) => r.handLabels.steps.labels))} s); ` +
      `cache pull: action ${f(med((r) => Number(r.withCache.cachePull ?? NaN)))} s, hand-written ${f(med((r) => r.hand.pull))} s; ` +
      `the action's push of the buildcache tag ${f(med((r) => r.withCache.cachePush))} s`,
  );
  console.log(
    `with cache / without: ${med((r) => r.withCache.seconds / r.without.seconds).toFixed(2)}x (goal <= 0.35x); ` +
      `action with cache / hand-written: ${med((r) => r.withCache.seconds / r.hand.seconds).toFixed(2)}x (goal <= 1.1x); ` +
      `action with cache / (hand-written + labels): ${med((r) => r.withCache.seconds / r.handLabels.seconds).toFixed(2)}x`,
  );
}
