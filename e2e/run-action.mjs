// Runs the bundled action the way the GitHub runner does: INPUT_* and GITHUB_* variables, the
// output/state/summary files, `node dist/index.js` for main, then again with STATE_* for post.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './credentials.mjs';
import { ROOT, sandbox } from './sandbox-env.mjs';

export { ROOT, sandbox };

/** Parses a GITHUB_OUTPUT / GITHUB_STATE file (name<<delimiter ... delimiter, or name=value). */
export function parseCommandFile(file) {
  const out = {};
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const value = [];
      while (++i < lines.length && lines[i] !== heredoc[2]) value.push(lines[i]);
      out[heredoc[1]] = value.join('\n');
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1);
    }
  }
  return out;
}

/** Inputs for deploying the fixture app into the sandbox; override any of them. */
export function fixtureInputs(sb, overrides = {}) {
  return {
    'ecr-repository': 'todobackend',
    context: path.join(ROOT, 'e2e/fixture'),
    'ssh-host': '127.0.0.1',
    'ssh-port': sb.SSH_PORT,
    'ssh-user': 'root',
    'ssh-private-key': fs.readFileSync(sb.SSH_KEY, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(sb.SSH_KNOWN_HOSTS, 'utf8'),
    'remote-docker-socket': sb.MANAGER_SOCKET,
    'stack-name': 'todobackend',
    'stack-file': path.join(ROOT, 'e2e/fixture/stack.yml'),
    'app-url': 'http://127.0.0.1:8000',
    'acceptance-args': '--network host',
    'stack-secrets': 'secret_key=APP_SECRET_KEY',
    ...overrides,
  };
}

function exec(node, script, env, { killAfter, killSignal = 'SIGKILL', onLine } = {}) {
  return new Promise((resolve) => {
    const child = spawn(node, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const lines = [];
    const onData = (d) => {
      log += d;
      for (const text of String(d).split('\n')) {
        if (!text) continue;
        lines.push({ at: Date.now(), text });
        onLine?.(text);
      }
      if (killAfter && log.includes(killAfter) && child.exitCode === null && !child.killed)
        child.kill(killSignal);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code, signal) => resolve({ exitCode: code, signal, log, lines }));
  });
}

/**
 * Runs main then post. Options: inputs, env (extra environment), node (binary, default the
 * sandbox's Node 24), sha, event ({ name, payload }: the workflow's event, written to
 * GITHUB_EVENT_PATH), skipPost, killAfter (send main killSignal, default SIGKILL, once its log
 * contains this text), onLine (called with each line of main's output as it arrives).
 */
export async function runAction({
  inputs,
  env = {},
  node,
  sha,
  event = { name: 'push', payload: {} },
  skipPost = false,
  killAfter,
  killSignal,
  onLine,
} = {}) {
  const sb = sandbox();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esd-run-'));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
  };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const eventPath = path.join(dir, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify(event.payload));
  const runnerTemp = path.join(dir, 'runner-temp');
  fs.mkdirSync(runnerTemp);
  const base = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_SHA: sha ?? 'a'.repeat(40),
    GITHUB_REPOSITORY: 'example/todobackend',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '1001',
    GITHUB_SERVER_URL: 'https://github.example',
    // Nothing listens here: a run that talks to GitHub must be given a test server.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_WORKSPACE: ROOT,
    GITHUB_ACTION_PATH: ROOT,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    ...files,
    AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SANDBOX_SECRET_ACCESS_KEY,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_ECR: sb.ECR_ENDPOINT,
    DOCKER_HOST: sb.RUNNER_DOCKER_HOST,
    APP_SECRET_KEY: fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim(),
    ...env,
  };
  const inputEnv = {};
  for (const [name, value] of Object.entries(inputs ?? {})) {
    inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value);
  }
  const nodeBin = node ?? sb.NODE24;
  const script = path.join(ROOT, 'dist/index.js');
  const started = Date.now();
  const main = await exec(nodeBin, script, { ...base, ...inputEnv }, { killAfter, killSignal, onLine });
  const mainSeconds = (Date.now() - started) / 1000;
  const state = parseCommandFile(files.GITHUB_STATE);
  let post = { exitCode: null, log: '' };
  if (!skipPost) {
    const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    post = await exec(nodeBin, script, { ...base, ...inputEnv, ...stateEnv });
  }
  return {
    dir,
    runnerTemp,
    exitCode: main.exitCode,
    mainSeconds,
    startedAt: started,
    /** The main step's output as it arrived, a line at a time, each with its arrival time (ms). */
    lines: main.lines,
    signal: main.signal,
    log: main.log,
    postExitCode: post.exitCode,
    postLog: post.log,
    outputs: parseCommandFile(files.GITHUB_OUTPUT),
    state,
    summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    summaryFile: files.GITHUB_STEP_SUMMARY,
  };
}

// As a command: node e2e/run-action.mjs [SHA] — deploy the fixture once (used by npm run demo).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sb = sandbox();
  const sha = process.argv[2] ?? 'a'.repeat(40);
  const result = await runAction({ inputs: fixtureInputs(sb), sha });
  process.stdout.write(result.log);
  process.stdout.write(result.postLog);
  console.log(`\nJob summary: ${result.summaryFile}`);
  for (const [k, v] of Object.entries(result.outputs)) console.log(`output ${k}=${v}`);
  process.exitCode = result.exitCode ?? 1;
}
