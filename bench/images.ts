// Two images of one stack: built one after another against both at once (the action's buildAndPush,
// concurrency 1 and 2), on a runner engine emptied before every build as a hosted runner starts, both
// from scratch (no build cache) and for a code-only change with the build cache in the registry.
// Alternating, in the same run; medians over rounds. Dependency layers of a fixed amount of CPU work
// (bench/images-app), so that two builds at once contend for the cores as real ones do.
//
// npm run bench runs it; alone: npx ncc build bench/images.ts -o bench/.build/images && \
//   SANDBOX_DIR=e2e/.work node bench/.build/images/index.js   (root; the sandbox up). BENCH_ROUNDS=N (3).
import '../src/ssh/shim.js';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
// @ts-expect-error plain JS module shared with the ECR emulator
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from '../e2e/credentials.mjs';
import { sandbox } from '../e2e/sandbox-env.mjs';
import type { BuildSpec, Image } from '../src/config/index.js';
import { getRegistryAuth } from '../src/registry/ecr.js';
import { buildAndPush, type BuildRun } from '../src/registry/build-and-push.js';
import { writeDockerConfig } from '../src/registry/login.js';
import { DockerCli } from '../src/runner/docker.js';

const sb = sandbox();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Run from the repository's root (npm run bench does).
const ROOT = process.cwd();
const REPOS = ['bench-images-app', 'bench-images-proxy'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runner = (...args: string[]) =>
  execFileSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, ...args], { encoding: 'utf8', stdio: 'pipe' });

process.env.AWS_ENDPOINT_URL_ECR = sb.ECR_ENDPOINT;
process.env.AWS_ACCESS_KEY_ID = SANDBOX_ACCESS_KEY_ID;
process.env.AWS_SECRET_ACCESS_KEY = SANDBOX_SECRET_ACCESS_KEY;
process.env.AWS_REGION = 'us-east-1';
const ecr = new ECRClient({});
for (const repositoryName of REPOS)
  await ecr.send(new CreateRepositoryCommand({ repositoryName })).catch(() => undefined);
const auth = await getRegistryAuth({ awsRegion: 'us-east-1' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-images-'));
fs.mkdirSync(path.join(work, 'docker-config'));
await writeDockerConfig(path.join(work, 'docker-config'), auth);
const docker = new DockerCli(path.join(work, 'docker-config'), sb.RUNNER_DOCKER_HOST);

/** A checkout with a code change in each image: the fixture app and its proxy, on the bench's Dockerfiles. */
function checkout(): { app: BuildSpec; proxy: BuildSpec } {
  const dir = fs.mkdtempSync(path.join(work, 'checkout-'));
  fs.cpSync(path.join(ROOT, 'e2e/fixture'), dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'bench/images-app/Dockerfile'), path.join(dir, 'Dockerfile'));
  fs.copyFileSync(path.join(ROOT, 'bench/images-app/Dockerfile.proxy'), path.join(dir, 'proxy/Dockerfile'));
  const change = crypto.randomBytes(8).toString('hex');
  fs.writeFileSync(path.join(dir, 'src/change.txt'), change);
  fs.writeFileSync(path.join(dir, 'proxy/www/change.txt'), change);
  const spec = (context: string): BuildSpec => ({ context, args: [], labels: {}, from: 'bench' });
  return { app: spec(dir), proxy: spec(path.join(dir, 'proxy')) };
}

/** What a hosted runner starts with: none of the repositories' images, no build cache. */
function coldRunner(): void {
  const ids = runner('images', '--format', '{{.Repository}} {{.ID}}')
    .split('\n')
    .filter((l) => REPOS.some((r) => l.startsWith(`${auth.registry}/${r} `)))
    .map((l) => l.split(' ')[1]);
  if (ids.length > 0) runner('rmi', '-f', ...new Set(ids));
  runner('builder', 'prune', '-af');
}

async function measure(concurrency: number, cache: boolean): Promise<number> {
  const specs = checkout();
  const images: (Image & { build: BuildSpec })[] = [
    { repository: REPOS[0], build: specs.app, services: ['app'] },
    { repository: REPOS[1], build: specs.proxy, services: ['proxy'] },
  ];
  const run: BuildRun = {
    registry: auth.registry,
    tag: crypto.randomBytes(4).toString('hex'),
    extraTags: [],
    sha: '',
    workspace: ROOT,
    buildSecrets: [],
    labels: {},
    ...(cache ? { cache: { tag: 'buildcache', from: ['buildcache'] } } : {}),
  };
  coldRunner();
  const started = Date.now();
  await buildAndPush(docker, images, run, { concurrency });
  return (Date.now() - started) / 1000;
}

// The first build pushes the cache the code-only changes reuse.
await measure(1, true);
const results: Record<string, number[]> = {};
const variants: [string, number, boolean][] = [
  ['one after another, no cache', 1, false],
  ['both at once, no cache', 2, false],
  ['one after another, cache', 1, true],
  ['both at once, cache', 2, true],
];
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? variants : [...variants].reverse();
  for (const [name, concurrency, cache] of order) {
    const seconds = await measure(concurrency, cache);
    (results[name] ??= []).push(seconds);
    console.log(`round ${round}: ${name}: ${seconds.toFixed(1)} s`);
  }
}
const m = (name: string) => median(results[name]);
for (const [name] of variants) console.log(`${name}: median ${m(name).toFixed(1)} s`);
console.log(
  `both at once / one after another: ${(m('both at once, no cache') / m('one after another, no cache')).toFixed(2)}x without cache, ${(m('both at once, cache') / m('one after another, cache')).toFixed(2)}x with it`,
);
console.log(
  `cold runner, two images, code-only change: with cache / without = ${(m('one after another, cache') / m('one after another, no cache')).toFixed(2)}x`,
);
fs.rmSync(work, { recursive: true, force: true });
