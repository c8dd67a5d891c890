// The action as a user meets it: a step with only the README's deploy inputs, every other input at
// its action.yml default (as GitHub's runner sets them), the user's repository as the workspace, a
// manager reached on port 22 as user docker with its engine at /var/run/docker.sock, acceptance tests
// on the runner engine's own network. Run with each docker CLI on this machine.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parse, stringify } from 'yaml';
import {
  expectTidy,
  manager,
  randomSha,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  type RunResult,
} from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'readme';
const APP_URL = `http://${sb.APP_HOST}:8100`;
const readmeStack = fs.readFileSync(`${repoRoot}/e2e/fixture/stack-readme.yml`, 'utf8');
const appSecret = fs.readFileSync(sb.APP_SECRET_KEY_FILE, 'utf8').trim();

/** The README's deploy step: its with: and nothing else. */
const readmeInputs = (): Record<string, string> => ({
  'ecr-repository': 'todobackend',
  'ssh-host': sb.SSH_DEFAULT_HOST,
  'ssh-private-key': fs.readFileSync(sb.SSH_KEY, 'utf8'),
  'ssh-known-hosts': fs.readFileSync(sb.SSH_DEFAULT_KNOWN_HOSTS, 'utf8'),
  'stack-name': STACK,
  'stack-file': 'stack.yml',
  'app-url': APP_URL,
});

/** The user's repository: the fixture app with the README's stack file (and a file for its secret). */
const workspace = (stackYaml = readmeStack) => ({ 'stack.yml': stackYaml, 'secret_key.txt': appSecret });

/** Debian's docker CLI 20.10, which has no docker stack config, on a PATH of its own. */
const DEBIAN_CLI = { cli: '/usr/bin/docker', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

function expectDeployed(r: RunResult) {
  expect({ exitCode: r.exitCode, errors: r.lines.filter((l) => l.text.startsWith('::error::')) }).toEqual({
    exitCode: 0,
    errors: [],
  });
  expect(r.outputs).toMatchObject({
    stack: STACK,
    url: APP_URL,
    migrate: 'complete',
    'tests-passed-count': '7',
    'tests-failed-count': '0',
  });
  expectTidy(r);
}

beforeAll(() => removeStack(STACK));
afterAll(() => removeStack(STACK));

describe('a step with only the README inputs, every default set by the runner', () => {
  test('docker CLI 28 (as on hosted runners): deploys, migrates and passes the tests', async () => {
    const sshdLog = `${sb.SANDBOX_DIR}/ssh-default/sshd.log`;
    const logged = fs.statSync(sshdLog).size;
    const r = await run({ inputs: readmeInputs(), files: workspace(), sha: randomSha() });
    expectDeployed(r);
    // docker's rendering of the stack, written to the run's private directory, is what is deployed.
    expect(r.log).toMatch(
      /\[command\]\S+ --config \S+ --host unix:\/\/\S+ stack deploy --with-registry-auth --resolve-image never --detach=true -c \S+\/ecr-swarm-deploy-\w+\/stack\.json readme$/m,
    );
    expect(r.log).not.toContain('--detach=false will become the default');
    // ${ECR_IMAGE} (app, migrate) and ${ECR_REGISTRY}/todobackend:${APP_VERSION} (db) run the same pinned image.
    const pinned = `${r.outputs.image}@${r.outputs.digest}`;
    for (const name of ['app', 'migrate', 'db'])
      expect((await service(`${STACK}_${name}`)).Spec.TaskTemplate.ContainerSpec.Image).toBe(pinned);
    // The secret's relative file: resolved from the stack file's folder in the workspace, as before.
    const secrets = manager([
      'secret',
      'ls',
      '--filter',
      'label=com.docker.stack.namespace=readme',
      '--format',
      '{{.Name}}',
    ]);
    expect(secrets.trim()).toBe('readme_secret_key');
    expect(r.log).toMatch(/\[command\]\S*docker build .* \.$/m);
    // The defaults reached the run: user docker on port 22, the engine at /var/run/docker.sock.
    const thisRun = fs.readFileSync(sshdLog).subarray(logged).toString('utf8');
    expect(thisRun).toMatch(/Accepted publickey for docker from 127\.0\.0\.1/);
    // The tests ran on the runner engine's own network (no acceptance-args), against the app.
    expect(r.log).not.toContain('--network host');
    expect((await fetch(`${APP_URL}/todos`)).status).toBe(200);
  });

  test("Debian's docker CLI 20.10, which cannot render a stack: refused before anything starts, naming the fix", async () => {
    expect(execFileSync(DEBIAN_CLI.cli, ['--version'], { encoding: 'utf8' })).toContain(
      'Docker version 20.10.',
    );
    const r = await run({
      inputs: readmeInputs(),
      files: workspace(),
      sha: randomSha(),
      env: { PATH: DEBIAN_CLI.PATH },
    });
    expect(r.exitCode).toBe(1);
    expect(r.lines.filter((l) => l.text.startsWith('::error::')).map((l) => l.text)).toEqual([
      `::error::the docker CLI at ${DEBIAN_CLI.cli} (20.10.24+dfsg1) has no "docker stack config", which the action reads the stack file with, as docker itself will deploy it (docker 23 and later have it): run the job on ubuntu-latest, or install docker-ce-cli 23 or later on the self-hosted runner`,
    ]);
    expect(r.summary).toContain('## ❌ The runner cannot run this action');
    expect(r.log).not.toContain('ECR login');
    expectTidy(r);
  });
});

describe('a runner without a docker CLI', () => {
  test('is refused before anything starts, naming the fix', async () => {
    const r = await run({
      inputs: readmeInputs(),
      files: workspace(),
      sha: randomSha(),
      env: { PATH: '/nonexistent' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.lines.filter((l) => l.text.startsWith('::error::')).map((l) => l.text)).toEqual([
      '::error::no docker CLI on PATH: run the job on ubuntu-latest (it has docker), or install docker on the self-hosted runner',
    ]);
    expect(r.summary).toContain('## ❌ The runner cannot run this action');
    expect(r.log).not.toContain('ECR login');
    expectTidy(r);
  });
});

describe('a service the stack file no longer has', () => {
  /** The README stack plus a collectstatic one-shot that fails once, then completes. */
  function withCollectstatic(): string {
    const doc = parse(readmeStack) as { services: Record<string, unknown> };
    doc.services.collectstatic = {
      image: '${ECR_REGISTRY}/todobackend:${APP_VERSION}',
      command: ['migrate'],
      environment: { MIGRATE_FAIL_TIMES: '1', MIGRATE_COUNTER: `collectstatic-${randomSha()}` },
      networks: ['net'],
      deploy: {
        endpoint_mode: 'dnsrr',
        restart_policy: { condition: 'on-failure', delay: '1s', max_attempts: 3 },
      },
    };
    return stringify(doc);
  }

  test('is named in one warning, not waited for, and prune: true removes it', async () => {
    const first = await run({
      inputs: { ...readmeInputs(), 'one-shot-services': 'migrate, collectstatic' },
      files: workspace(withCollectstatic()),
      sha: randomSha(),
    });
    expectDeployed(first);
    expect(first.log).toContain('readme_collectstatic: complete');

    const r = await run({ inputs: readmeInputs(), files: workspace(), sha: randomSha() });
    expectDeployed(r);
    const warnings = r.lines.filter((l) => l.text.startsWith('::warning::'));
    expect(warnings.map((w) => w.text)).toEqual([
      '::warning::readme_collectstatic: in stack readme but not in stack.yml, so left as it was and not waited for; set prune: true to remove services the stack file no longer has',
    ]);
    expect(r.log).not.toContain('readme_collectstatic: pending');
    expect(r.summary).toContain('| readme_collectstatic | Replicated | 0/1 |');
    expect(r.summary).toMatch(/\| readme_collectstatic \|.*\| not in stack-file \|/);
    // A one-shot's paused update (its task exited) is not shown as a problem.
    expect(r.summary).toMatch(/\| readme_migrate \|.*\| one-shot \|/);
    expect(r.summary).not.toContain('paused');

    const pruned = await run({
      inputs: { ...readmeInputs(), prune: 'true' },
      files: workspace(),
      sha: randomSha(),
    });
    expectDeployed(pruned);
    expect(pruned.log).toContain('Removing service readme_collectstatic');
    expect(pruned.summary).toContain(
      'Removed (prune: the stack file no longer has them): `readme_collectstatic`',
    );
    expect(pruned.log).not.toContain('::warning::');
    expect(manager(['service', 'ls', '-q', '--filter', 'name=readme_collectstatic']).trim()).toBe('');
    expect((await service(`${STACK}_app`)).UpdateStatus?.State).toBe('completed');
  });
});

describe('the compose override pattern: several stack files and an env-file', () => {
  test('later files override earlier ones, stack-env wins over env-file, and every service says who deployed it', async () => {
    const override = stringify({
      version: '3.7',
      services: {
        app: {
          environment: { DOMAIN: '${DOMAIN}', TIER: '${TIER}' },
          // A relative bind in the second file: docker resolves it from the first file's folder.
          volumes: ['./static:/static:ro'],
          deploy: { labels: { tier: '${TIER}' } },
        },
      },
    });
    const sha = randomSha();
    const r = await run({
      inputs: {
        ...readmeInputs(),
        'stack-file': 'stack.yml, stack.prod.yml',
        'env-file': 'deploy.env',
        'stack-env': 'DOMAIN=input.example.com',
      },
      files: {
        ...workspace(),
        'stack.prod.yml': override,
        'deploy.env': '# deploy settings\nTIER=web\nDOMAIN=file.example.com\n',
        'static/index.html': 'static\n',
      },
      sha,
    });
    expectDeployed(r);
    // Both files rendered by docker into one document, the labels merged into it.
    expect(r.log).toMatch(
      /stack deploy --with-registry-auth --resolve-image never --detach=true -c \S+\/stack\.json readme$/m,
    );
    const app = await service(`${STACK}_app`);
    const env = (app.Spec.TaskTemplate.ContainerSpec as { Env?: string[] }).Env ?? [];
    expect(env).toEqual(expect.arrayContaining(['DOMAIN=input.example.com', 'TIER=web']));
    const mounts = (app.Spec.TaskTemplate.ContainerSpec as { Mounts?: { Source: string; Type: string }[] })
      .Mounts;
    expect(mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: `${r.workspace}/static` }));
    const image = app.Spec.TaskTemplate.ContainerSpec.Image;
    for (const name of ['app', 'db', 'migrate']) {
      const labels = (await service(`${STACK}_${name}`)).Spec.Labels ?? {};
      expect(labels).toMatchObject({
        'com.github.ecr-swarm-deploy.commit': sha,
        'com.github.ecr-swarm-deploy.image': `${r.outputs.image}@${r.outputs.digest}`,
        // The harness's runner: https://github.example, example/todobackend, run 1001, octocat.
        'com.github.ecr-swarm-deploy.run': 'https://github.example/example/todobackend/actions/runs/1001',
        'com.github.ecr-swarm-deploy.actor': 'octocat',
      });
    }
    // The user's own label is kept beside the action's.
    expect(app.Spec.Labels?.tier).toBe('web');
    expect(image).toContain(r.outputs.digest);
  });
});

describe('a slow rollout says what it waits for', () => {
  test('an old task that ignores its stop signal: the wait names it and its grace period', async () => {
    // The app's main process ignores SIGUSR2 (it is PID 1, with no handler): Swarm waits out the grace period.
    const doc = parse(readmeStack) as { services: Record<string, Record<string, unknown>> };
    Object.assign(doc.services.app, { stop_signal: 'SIGUSR2', stop_grace_period: '6s' });
    const files = workspace(stringify(doc));
    expectDeployed(await run({ inputs: readmeInputs(), files, sha: randomSha() }));
    const r = await run({ inputs: readmeInputs(), files, sha: randomSha() });
    expectDeployed(r);
    expect(r.log).toContain(
      `${STACK}_app: pending: updating, 0/1 running; waiting for the old task to stop (it is killed after its stop grace period, 6 s)`,
    );
  });
});

describe('a change that Swarm rolls out without a rolling update', () => {
  test('a deploy of the same image that adds a placement constraint the manager fits: no task is replaced, the deploy completes', async () => {
    const sha = randomSha();
    const first = await run({ inputs: readmeInputs(), files: workspace(), sha });
    expectDeployed(first);
    const running = () =>
      manager(['service', 'ps', '-q', '--filter', 'desired-state=running', `${STACK}_app`]);
    const task = running();

    const doc = parse(readmeStack) as { services: Record<string, { deploy: Record<string, unknown> }> };
    for (const name of ['db', 'app'])
      doc.services[name].deploy.placement = { constraints: ['node.role == manager'] };
    const r = await run({
      // The same image, not built again (a build may give it another digest).
      inputs: { ...readmeInputs(), build: 'false', 'image-tag': first.outputs.tag, 'converge-timeout': '60' },
      files: workspace(stringify(doc)),
      sha,
    });
    expectDeployed(r);
    const app = await service(`${STACK}_app`);
    expect(
      (app.Spec.TaskTemplate as { Placement?: { Constraints?: string[] } }).Placement?.Constraints,
    ).toEqual(['node.role == manager']);
    // Swarm found no task out of date: it started no update, and the same task still runs.
    expect(app.UpdateStatus ?? null).toBeNull();
    expect(running()).toBe(task);
    expect(r.log).toContain(`${STACK}_app: converged: no task out of date, so no rolling update`);
  });
});

describe('several managers in ssh-host', () => {
  test("the first one's sshd is down: the run passes it over with a warning and deploys through the next", async () => {
    const down = '127.0.0.3'; // loopback, where no sshd listens
    const known = fs.readFileSync(sb.SSH_DEFAULT_KNOWN_HOSTS, 'utf8');
    const r = await run({
      inputs: {
        ...readmeInputs(),
        'ssh-host': `${down}, ${sb.SSH_DEFAULT_HOST}`,
        'ssh-known-hosts': `${known}\n${known.replaceAll(sb.SSH_DEFAULT_HOST, down)}`,
      },
      files: workspace(),
      sha: randomSha(),
    });
    expectDeployed(r);
    expect(r.lines.filter((l) => l.text.startsWith('::warning::')).map((l) => l.text)).toEqual([
      `::warning::Passing over manager ${down}: SSH connection to docker@${down}:22 failed: connect ECONNREFUSED ${down}:22`,
    ]);
    expect(r.log).toMatch(
      new RegExp(`SSH tunnel to ${sb.SSH_DEFAULT_HOST.replaceAll('.', '\\.')} ready after`),
    );
  });
});

describe("the runner's environment stays out of docker", () => {
  test('a stack file that interpolates the AWS secret, a runner token or an input, or names one without a value, gets nothing of them', async () => {
    const doc = parse(readmeStack) as { services: Record<string, Record<string, unknown>> };
    doc.services.app.environment = {
      LEAK_AWS: '${AWS_SECRET_ACCESS_KEY:-}',
      LEAK_ID_TOKEN: '${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}',
      LEAK_SECRET: '${APP_SECRET_KEY:-}',
      // No value: docker looks the name up in its own environment, when it renders and when it deploys.
      AWS_SECRET_ACCESS_KEY: null,
    };
    const r = await run({ inputs: readmeInputs(), files: workspace(stringify(doc)), sha: randomSha() });
    expectDeployed(r);
    const app = await service(`${STACK}_app`);
    const env = (app.Spec.TaskTemplate.ContainerSpec as { Env?: string[] }).Env ?? [];
    expect(env.filter((e) => e.startsWith('LEAK_')).sort()).toEqual([
      'LEAK_AWS=',
      'LEAK_ID_TOKEN=',
      'LEAK_SECRET=',
    ]);
    expect(env.filter((e) => e.startsWith('AWS_'))).toEqual(['AWS_SECRET_ACCESS_KEY']);
    // The values really were in the step's environment.
    expect(r.runnerSecrets.length).toBeGreaterThan(0);
    expectTidy(r);
  });
});

describe('a manager with several host keys, pinned by the fingerprint of one that is not its first choice', () => {
  const ecdsa = () => {
    const blob = Buffer.from(fs.readFileSync(sb.SSH_DEFAULT_ECDSA_PUB, 'utf8').split(' ')[1], 'base64');
    return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  };

  test('a bare fingerprint is refused before authentication, with the hint to name its key type', async () => {
    const r = await run({
      inputs: { ...readmeInputs(), 'ssh-known-hosts': ecdsa() },
      files: workspace(),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('which is not the pinned key');
    expect(r.log).toContain(`write that key's type before it (e.g. "ecdsa-sha2-nistp256 SHA256:...")`);
    expect(r.log).not.toContain('stack deploy');
    expectTidy(r);
  });

  test('"ecdsa-sha2-nistp256 SHA256:..." asks for that key and deploys', async () => {
    const r = await run({
      inputs: { ...readmeInputs(), 'ssh-known-hosts': `ecdsa-sha2-nistp256 ${ecdsa()}` },
      files: workspace(),
      sha: randomSha(),
    });
    expectDeployed(r);
  });
});
