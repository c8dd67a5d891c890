// Whole-pipeline benchmark: the action (dist/, as the runner runs it) against the manual script, on the
// same sandbox, alternating, a new commit each time. Also: completion latency (migrate task complete in
// Swarm → the action noticing), Engine API calls per wait, start-up time to the first phase, and where the
// action's time goes: before the deploy, Swarm replacing the app's task, the tests, and after the tests.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fixtureInputs, runAction, sandbox, ROOT } from '../e2e/run-action.mjs';

const sb = sandbox();
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const randomSha = () => [...Array(40)].map(() => Math.floor(Math.random() * 16).toString(16)).join('');

function tasksOf(service) {
  return new Promise((resolve, reject) => {
    const filters = encodeURIComponent(JSON.stringify({ service: [service] }));
    http
      .get({ socketPath: sb.MANAGER_SOCKET, path: `/v1.41/tasks?filters=${filters}` }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

// The manual way's hand-made secret for the stack (the action makes its own from stack-secrets).
spawnSync(
  'docker',
  ['-H', sb.MANAGER_DOCKER_HOST, 'secret', 'create', 'todobackend_secret_key', sb.APP_SECRET_KEY_FILE],
  {
    stdio: 'ignore',
  },
);

const results = [];
for (let round = 1; round <= rounds; round++) {
  const sha = randomSha();
  const action = await runAction({ inputs: fixtureInputs(sb), sha, env: { RUNNER_DEBUG: '1' } });
  if (action.exitCode !== 0) throw new Error(`action failed:\n${action.log}`);
  const noticed = action.lines.find((l) => l.text.includes('todobackend_migrate: complete'));
  const ofThisDeploy = (state) => (t) =>
    t.Status.State === state && t.Spec.ContainerSpec.Image.includes(`:${sha.slice(0, 7)}@`);
  const task = (await tasksOf('todobackend_migrate')).find(ofThisDeploy('complete'));
  // A running task's status timestamp is when Swarm saw it start running.
  const appTask = (await tasksOf('todobackend_app')).find(ofThisDeploy('running'));
  // The first line starting with text, after the line at index from; [its index, when it arrived].
  const line = (text, from = 0) => {
    const i = action.lines.findIndex((l, j) => j >= from && l.text.startsWith(text));
    return [i, action.lines[i].at];
  };
  const [buildLine, buildAt] = line('::group::Build and push');
  const [, builtAt] = line('::endgroup::', buildLine);
  const [, deployAt] = line('::group::Stack deploy');
  const appRunningAt = Date.parse(appTask.Status.Timestamp);
  const [testsLine, testsAt] = line('::group::Acceptance tests');
  const [, testsEndAt] = line('::endgroup::', testsLine);
  const phases = {
    beforeDeploy: (deployAt - action.startedAt) / 1000,
    buildAndPush: (builtAt - buildAt) / 1000,
    swarm: (appRunningAt - deployAt) / 1000,
    tests: (testsEndAt - testsAt) / 1000,
    afterTests: (action.startedAt + action.mainSeconds * 1000 - testsEndAt) / 1000,
  };
  const latency = (noticed.at - Date.parse(task.Status.Timestamp)) / 1000;
  const calls = /waited ([\d.]+) s for one-shot.*: (\d+) polls, (\d+) Engine API calls/.exec(action.log);
  const firstPhase = action.lines.find((l) => l.text.includes('::group::ECR login'));
  const startup = (firstPhase.at - action.startedAt) / 1000;

  const manualStart = Date.now();
  const manual = spawnSync('bash', [path.join(ROOT, 'bench/manual.sh'), randomSha().slice(0, 7)], {
    stdio: 'inherit',
  });
  if (manual.status !== 0) throw new Error('manual script failed');
  const manualSeconds = (Date.now() - manualStart) / 1000;

  const nodeStart = Date.now();
  execFileSync(sb.NODE24, ['-e', '0']);
  const bareNode = (Date.now() - nodeStart) / 1000;

  const row = {
    round,
    action: action.mainSeconds,
    manual: manualSeconds,
    latency,
    startup,
    bareNode,
    polls: +calls[2],
    calls: +calls[3],
    waited: +calls[1],
    // What a tool that takes no time of its own would need: build and push, Swarm's replacement of the
    // app, then the tests.
    floor: phases.buildAndPush + phases.swarm + phases.tests,
  };
  results.push(row);
  console.log(
    `round ${round}: action ${row.action.toFixed(1)} s, manual ${row.manual.toFixed(1)} s (ratio ${(row.action / row.manual).toFixed(2)}); ` +
      `migrate noticed ${row.latency.toFixed(2)} s after completing; wait ${row.waited} s, ${row.polls} polls, ${row.calls} API calls; ` +
      `start-up ${(row.startup * 1000).toFixed(0)} ms (bare node ${(row.bareNode * 1000).toFixed(0)} ms)\n` +
      `  action: ${phases.beforeDeploy.toFixed(2)} s to the deploy (build and push ${phases.buildAndPush.toFixed(2)} s), ${phases.swarm.toFixed(2)} s until Swarm runs the new app task, ` +
      `tests ${phases.tests.toFixed(2)} s, ${phases.afterTests.toFixed(2)} s after the tests (Swarm's update monitor); ` +
      `build, push, Swarm and tests alone: ${row.floor.toFixed(2)} s = ${(row.floor / row.manual).toFixed(2)}x the manual script`,
  );
}
const latencies = results.map((r) => r.latency);
console.log(
  `median pipeline ratio (action / manual): ${median(results.map((r) => r.action / r.manual)).toFixed(2)}`,
);
console.log(
  `lower bound for any tool that tests the new app (build and push, Swarm's replacement, tests; nothing else) / manual: ` +
    `median ${median(results.map((r) => r.floor / r.manual)).toFixed(2)}`,
);
console.log(
  `completion latency: median ${median(latencies).toFixed(2)} s, worst ${Math.max(...latencies).toFixed(2)} s`,
);
console.log(
  `start-up to first phase: median ${(median(results.map((r) => r.startup)) * 1000).toFixed(0)} ms ` +
    `(${median(results.map((r) => r.startup / r.bareNode)).toFixed(1)}x a bare node start)`,
);
console.log(
  `bundle: dist/index.js ${(fs.statSync(path.join(ROOT, 'dist/index.js')).size / 1e6).toFixed(2)} MB`,
);
