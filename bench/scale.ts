// Scale benchmark: what a convergence wait costs per poll for a stack of 1, 10 and 50 services. The
// wait makes one service list and one task list call per poll, whatever the number of services; the
// per-poll time is reported as a ratio to the 1-service stack's, measured in the same run.
import '../src/ssh/shim.js';
import { sandbox } from '../e2e/sandbox-env.mjs';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/swarm/engine.js';
import { snapshotStack, waitConverged } from '../src/swarm/stack.js';

const env = sandbox();
const sizes = (process.env.BENCH_SIZES ?? '1,10,50').split(',').map(Number);
const repeats = 7;
const docker = (...args: string[]) =>
  execFileSync('docker', ['-H', env.MANAGER_DOCKER_HOST, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Any image the manager already has will do: the services only sleep.
const image = docker('image', 'ls', '--digests', '--format', '{{.Repository}}@{{.Digest}}')
  .split('\n')
  .find((ref) => ref.includes('@sha256:'));
if (!image) throw new Error('the manager has no image yet: run npm run demo first');

const engine = new Engine(env.MANAGER_SOCKET);
const results: { size: number; pollMs: number; calls: number }[] = [];
for (const size of sizes) {
  const stack = `scale${size}`;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scale-')), 'stack.yml');
  const services = Array.from(
    { length: size },
    (_, i) =>
      `  s${i}:\n    image: ${image}\n    entrypoint: ['sleep', '3600']\n    deploy: { endpoint_mode: dnsrr }\n`,
  );
  fs.writeFileSync(file, `version: '3.7'\nservices:\n${services.join('')}`);
  docker('stack', 'deploy', '--resolve-image', 'never', '-c', file, stack);
  const names = Array.from({ length: size }, (_, i) => `${stack}_s${i}`);
  for (let i = 0; ; i++) {
    const tasks = await engine.listTasks({ service: names }).catch(() => []);
    if (tasks.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running').length === size)
      break;
    if (i > 240) throw new Error(`the ${size} services of ${stack} did not all start within 2 minutes`);
    await sleep(500);
  }
  // All converged and unchanged: each wait is exactly one poll.
  const before = await snapshotStack(engine, stack);
  const times: number[] = [];
  let calls = 0;
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    const callsBefore = engine.calls;
    await waitConverged(engine, names, 30, before);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    calls = engine.calls - callsBefore;
  }
  results.push({ size, pollMs: median(times), calls });
  docker('stack', 'rm', stack);
  for (
    let i = 0;
    i < 300 && docker('ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`).trim();
    i++
  )
    await sleep(500);
}
const base = results[0].pollMs;
for (const r of results) {
  console.log(
    `${r.size} services: ${r.calls} API calls per poll, ${r.pollMs.toFixed(1)} ms per poll (${(r.pollMs / base).toFixed(2)}x the 1-service stack)`,
  );
}
