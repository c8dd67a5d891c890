// Runs the bundled action the way GitHub's runner does: every action.yml default set as an INPUT_*
// variable and the step's with: values on top; the user's repository (a copy of the fixture app, a git
// repository of its own) as the workspace and the working directory; the runner's environment and
// command files; `node dist/index.js` for main, then post as post-if says, with STATE_*. The AWS
// credentials are those of the step's mode: a role with that mode's documented IAM policy.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { MODE_CREDENTIALS } from './credentials.mjs';
import { ROOT, sandbox } from './sandbox-env.mjs';

export { ROOT, sandbox };

const ACTION = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));

/** The runner's name for an input's variable: spaces to _, upper case, dashes kept. */
const inputVariable = (name) => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;

/**
 * The INPUT_* variables of a step: action.yml's defaults (expressions evaluated), then with: on top.
 * An input action.yml does not declare is a mistake in the scenario.
 */
export function inputEnvironment(withInputs, githubToken) {
  const env = {};
  for (const [name, spec] of Object.entries(ACTION.inputs)) {
    if (spec.default === undefined) continue;
    env[inputVariable(name)] = String(spec.default).replace('${{ github.token }}', githubToken);
  }
  for (const [name, value] of Object.entries(withInputs)) {
    if (!(name in ACTION.inputs)) throw new Error(`action.yml has no input ${name}`);
    env[inputVariable(name)] = String(value);
  }
  return env;
}

/** Whether the runner starts post after a main step that ended with exitCode (post-if, default always()). */
function postRuns(exitCode) {
  const condition = (ACTION.runs['post-if'] ?? 'always()').replace(/^\$\{\{\s*|\s*\}\}$/g, '');
  if (condition === 'always()') return true;
  if (condition === 'success()') return exitCode === 0;
  if (condition === 'failure()') return exitCode !== 0;
  throw new Error(`the harness does not evaluate post-if: ${condition}`);
}

/** The user's repository: a copy of the fixture app, committed in a git repository of its own. */
export function makeWorkspace(dir, files) {
  const workspace = path.join(dir, 'workspace');
  fs.cpSync(path.join(ROOT, 'e2e/fixture'), workspace, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), content);
  }
  // A commit's time is fixed, as it is for every run of the same commit on GitHub.
  const at = '2026-01-01T00:00:00Z';
  const git = (...args) =>
    execFileSync('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.com', ...args], {
      cwd: workspace,
      stdio: 'ignore',
      env: { ...process.env, GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'app');
  return workspace;
}

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

/** The with: of a step deploying the fixture app into the sandbox (stack-file and context: the defaults). */
export function fixtureInputs(sb, overrides = {}) {
  return {
    'ecr-repository': 'todobackend',
    'ssh-host': '127.0.0.1',
    'ssh-port': sb.SSH_PORT,
    'ssh-user': 'root',
    'ssh-private-key': fs.readFileSync(sb.SSH_KEY, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(sb.SSH_KNOWN_HOSTS, 'utf8'),
    'remote-docker-socket': sb.MANAGER_SOCKET,
    'stack-name': 'todobackend',
    'app-url': 'http://127.0.0.1:8000',
    'acceptance-args': '--network host',
    'stack-secrets': 'secret_key=APP_SECRET_KEY',
    ...overrides,
  };
}

function exec(node, script, env, cwd, { killAfter, killSignal = 'SIGKILL', onLine } = {}) {
  return new Promise((resolve) => {
    const child = spawn(node, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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
 * Runs main, then post as post-if says. Options: inputs (the step's with:), env (the step's env:
 * and anything else in the job's environment), node (binary, default the sandbox's Node 24), sha
 * (GITHUB_SHA; 'HEAD' is the workspace's own commit, as a checkout of the pushed commit leaves it),
 * event ({ name, payload }: the workflow's event, written to GITHUB_EVENT_PATH), files (name ->
 * content, added to the workspace), skipPost, killAfter (send main killSignal, default SIGKILL, once
 * its log contains this text), onLine (called with each line of main's output as it arrives), main (the
 * main entry to run instead of action.yml's, e.g. an earlier bundle for a benchmark).
 */
export async function runAction({
  inputs = {},
  env = {},
  node,
  main: mainEntry,
  sha,
  event = { name: 'push', payload: {} },
  files: workspaceFiles = {},
  skipPost = false,
  killAfter,
  killSignal,
  onLine,
} = {}) {
  const sb = sandbox();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esd-run-'));
  const workspace = makeWorkspace(dir, workspaceFiles);
  const commit =
    sha === 'HEAD'
      ? execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspace, encoding: 'utf8' }).trim()
      : (sha ?? 'a'.repeat(40));
  const files = {
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
    GITHUB_ENV: path.join(dir, 'env'),
    GITHUB_PATH: path.join(dir, 'path'),
  };
  for (const f of Object.values(files)) fs.writeFileSync(f, '');
  const eventPath = path.join(dir, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify(event.payload));
  const runnerTemp = path.join(dir, 'runner-temp');
  const toolCache = path.join(dir, 'tool-cache');
  fs.mkdirSync(runnerTemp);
  fs.mkdirSync(toolCache);
  const token = (prefix) => `${prefix}${crypto.randomBytes(18).toString('base64url')}`;
  const githubToken = token('ghs_');
  const inputEnv = inputEnvironment(inputs, githubToken);
  // The AWS credentials of a role with the documented IAM policy of the step's mode (docs/iam/MODE.json),
  // which the sandbox's ECR emulator enforces; a scenario may give others in env.
  // A mode the action does not know stops it before any AWS call: it gets deploy's.
  const aws = MODE_CREDENTIALS[inputEnv.INPUT_MODE.trim()] ?? MODE_CREDENTIALS.deploy;
  // What a hosted runner's job environment holds besides the inputs: the runner's own tokens (with
  // id-token: write), the AWS credentials configure-aws-credentials exported, and the workflow's env.
  const runnerSecrets = {
    ACTIONS_RUNTIME_TOKEN: token('rt_'),
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: token('idt_'),
  };
  const base = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? '/root',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_SHA: commit,
    GITHUB_REPOSITORY: 'example/todobackend',
    GITHUB_REPOSITORY_OWNER: 'example',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_RUN_ID: '1001',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTION: '__OWNER_ecr-swarm-deploy',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.example',
    // Nothing listens here: a run that talks to GitHub must be given a test server.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_GRAPHQL_URL: 'http://127.0.0.1:9/graphql',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: ROOT,
    GITHUB_ACTION_REPOSITORY: 'OWNER/ecr-swarm-deploy',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 2',
    RUNNER_ENVIRONMENT: 'github-hosted',
    ...files,
    ...runnerSecrets,
    ACTIONS_RUNTIME_URL: 'http://127.0.0.1:9/runtime/',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/id-token',
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_ECR: sb.ECR_ENDPOINT,
    DOCKER_HOST: sb.RUNNER_DOCKER_HOST,
    APP_SECRET_KEY: fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim(),
    ...env,
  };
  const nodeBin = node ?? sb.NODE24;
  // The action's own directory (GITHUB_ACTION_PATH): the runner starts main by its absolute path.
  const script = mainEntry ?? path.join(ROOT, ACTION.runs.main);
  const started = Date.now();
  const main = await exec(nodeBin, script, { ...base, ...inputEnv }, workspace, {
    killAfter,
    killSignal,
    onLine,
  });
  const mainSeconds = (Date.now() - started) / 1000;
  const state = parseCommandFile(files.GITHUB_STATE);
  let post = { exitCode: null, log: '' };
  if (!skipPost && postRuns(main.exitCode)) {
    const stateEnv = Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
    post = await exec(
      nodeBin,
      path.join(ROOT, ACTION.runs.post),
      { ...base, ...inputEnv, ...stateEnv },
      workspace,
    );
  }
  return {
    dir,
    workspace,
    sha: commit,
    runnerTemp,
    /** Values only the runner holds; nothing the action shows may contain them. */
    runnerSecrets: [githubToken, ...Object.values(runnerSecrets)],
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
