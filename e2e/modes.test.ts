// Pull request previews, their teardown, stack secrets and release promotion: the bundled dist/ run as
// the runner runs it, against the sandbox's Swarm, registry, sshd and ECR emulator, with a recording
// stand-in for the GitHub API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { ECRClient, PutImageTagMutabilityCommand } from '@aws-sdk/client-ecr';
import { parse, stringify } from 'yaml';
import { GitHubApi, TOKEN_AUTHOR, type Author } from './github-api.js';
import {
  deploysOf,
  ecrRequests,
  ensureDeployed,
  expectTidy,
  inputs,
  stackInputs,
  manager,
  noteDeployed,
  randomSha,
  registryApi,
  registryDigest,
  registryTags,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  setUp,
} from './helpers.js';
// @ts-expect-error plain JS module shared with the ECR emulator
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './credentials.mjs';

jest.setTimeout(240_000);

const BASE = 'todobackend';
/** The stack main deploys to in the shipped workflows (deploy.yml); production is BASE (release.yml). */
const STAGING = (
  parse(fs.readFileSync(`${repoRoot}/.github/workflows/deploy.yml`, 'utf8')) as {
    jobs: { deploy: { steps: { with?: Record<string, string> }[] } };
  }
).jobs.deploy.steps.find((s) => s.with?.['stack-name'])!.with!['stack-name'];
const short = (sha: string) => sha.slice(0, 7);
const previewStack = (pr: number) => `${BASE}-pr-${pr}`;
const github = new GitHubApi();
let apiUrl = '';

/** A pull_request event for pull request `pr` whose head is `head` (GITHUB_SHA is the merge commit). */
function previewRun(
  pr: number,
  head: string,
  {
    mode = 'preview',
    extra = {},
    env = {},
    killAfter,
    files,
  }: {
    mode?: string;
    extra?: Record<string, string>;
    env?: Record<string, string>;
    killAfter?: string;
    files?: Record<string, string>;
  } = {},
) {
  return run({
    killAfter,
    files,
    killSignal: 'SIGTERM',
    inputs: inputs({ mode, 'app-url': 'http://127.0.0.1:{port}', 'github-token': 'test-token', ...extra }),
    sha: randomSha(),
    event: {
      name: 'pull_request',
      payload: {
        action: mode === 'teardown' ? 'closed' : 'synchronize',
        pull_request: { number: pr, head: { sha: head } },
      },
    },
    env: { GITHUB_API_URL: apiUrl, ...env },
  });
}

const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The names of the Swarm secrets the action made for a stack, one per line. */
const ownSecrets = (stack: string) =>
  manager([
    'secret',
    'ls',
    '--format',
    '{{.Name}}',
    '--filter',
    `label=com.github.ecr-swarm-deploy.stack=${stack}`,
  ]).trim();

/** What is left of a stack on the manager, by kind (empty strings when nothing). */
function leftovers(stack: string): Record<string, string> {
  const label = `label=com.docker.stack.namespace=${stack}`;
  const q = (args: string[]) => manager(args).trim();
  return {
    services: q(['service', 'ls', '-q', '--filter', label]),
    containers: q(['ps', '-aq', '--filter', label]),
    networks: q(['network', 'ls', '-q', '--filter', label]),
    volumes: q(['volume', 'ls', '-q', '--filter', label]),
    secrets: ownSecrets(stack),
  };
}
const NOTHING = { services: '', containers: '', networks: '', volumes: '', secrets: '' };

async function appAnswers(url: string): Promise<boolean> {
  const res = await fetch(url).catch(() => undefined);
  return res?.status === 200 && ((await res.json()) as { app?: string }).app === 'todobackend';
}

/** The secret file the stack's running app container sees. */
function appSecret(stack: string): string {
  const id = manager([
    'ps',
    '-q',
    '--filter',
    `label=com.docker.swarm.service.name=${stack}_app`,
    '--filter',
    'status=running',
  ])
    .trim()
    .split('\n')[0];
  return manager(['exec', id, 'cat', '/run/secrets/secret_key']).trim();
}

beforeAll(async () => {
  apiUrl = await github.start();
  for (const s of [BASE, STAGING, previewStack(7), previewStack(8), previewStack(9), previewStack(10)])
    await removeStack(s);
});
afterAll(async () => {
  await github.stop();
  for (const s of [STAGING, previewStack(7), previewStack(8), previewStack(9), previewStack(10)])
    await removeStack(s);
});

describe('pull request previews', () => {
  const head7 = randomSha();
  const head8 = randomSha();
  // Pull request 8's image differs from the others (a build argument), so digests tell them apart.
  const previewExtra = (pr: number): Record<string, string> =>
    pr === 8 ? { 'build-args': `MIGRATE_COUNTER=pr8-${head8}` } : {};

  /** The head commit each preview was last deployed from here, successfully, by pull request. */
  const previewHeads = new Map<number, string>();

  /**
   * Set-up: pull request pr's preview runs a head deployed here (else a new head is deployed now), as
   * scenario 1 leaves previews 7 and 8. Returns that head.
   */
  async function ensurePreview(pr: number): Promise<string> {
    const head = previewHeads.get(pr);
    const image = await service(`${previewStack(pr)}_app`).then(
      (s) => s.Spec.TaskTemplate.ContainerSpec.Image,
      () => '',
    );
    if (head && image.includes(`/todobackend:pr-${pr}-${short(head)}@`)) return head;
    const next = randomSha();
    setUp(`the preview of pull request ${pr}`, await previewRun(pr, next, { extra: previewExtra(pr) }));
    previewHeads.set(pr, next);
    return next;
  }

  /** Set-up: the commit production was deployed from here (deployed now if none was); its image is in ECR. */
  const mainCommit = async () => (deploysOf(BASE)[0] ?? (await ensureDeployed(BASE))).sha;

  test('1. production and two previews side by side, each at its own URL, each passing acceptance', async () => {
    const mainSha = randomSha();
    const prod = await run({ inputs: inputs(), sha: mainSha });
    expect(prod.exitCode).toBe(0);
    noteDeployed(BASE, mainSha, prod);

    const [p7, p8] = [
      await previewRun(7, head7, { extra: previewExtra(7) }),
      await previewRun(8, head8, { extra: previewExtra(8) }),
    ];
    for (const [pr, r, head] of [
      [7, p7, head7],
      [8, p8, head8],
    ] as const) {
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({
        stack: previewStack(pr),
        tag: `pr-${pr}-${short(head)}`,
        url: `http://127.0.0.1:${20000 + pr}`,
        migrate: 'complete',
        'tests-passed-count': '7',
        'tests-failed-count': '0',
      });
      const app = await service(`${previewStack(pr)}_app`);
      expect(app.Spec.TaskTemplate.ContainerSpec.Image).toContain(`/todobackend:pr-${pr}-${short(head)}@`);
      expect(await appAnswers(`http://127.0.0.1:${20000 + pr}/`)).toBe(true);

      // The Deployment is for the head commit, in the preview's own environment, in progress then successful.
      const d = github.deploymentsOf(previewStack(pr)).at(-1)!;
      expect(d.ref).toBe(head);
      expect(d.payload).toMatchObject({ transient_environment: true, production_environment: false });
      expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
      expect(d.statuses[1].environment_url).toBe(`http://127.0.0.1:${20000 + pr}`);
      expect(r.outputs['deployment-id']).toBe(String(d.id));

      const comments = github.comments.filter((c) => c.issue === pr);
      expect(comments).toHaveLength(1);
      expect(comments[0].body).toContain(`http://127.0.0.1:${20000 + pr}`);
      expect(comments[0].body).toContain(`\`${head}\``);
      expect(comments[0].body).toContain('Acceptance tests: 7 passed, 0 failed');
      expect(comments[0].body).toContain('| 3 | create a todo | ✅ pass |');
      // The secret was created for the preview, versioned, and only the action's secrets are labelled.
      expect(leftovers(previewStack(pr)).secrets).not.toBe('');
      expectTidy(r, ['test-token']);
      previewHeads.set(pr, head);
    }
    expect(await appAnswers('http://127.0.0.1:8000/')).toBe(true);
    expect(p7.outputs.digest).not.toBe(p8.outputs.digest);
  });

  test('2. a new commit updates the same comment, and a changed secret rolls the app onto a new secret', async () => {
    const head = await ensurePreview(8);
    const refs = github.deploymentsOf(previewStack(8)).map((d) => d.ref);
    expect(refs.at(-1)).toBe(head);
    const sent = github.requests.length;
    const next = randomSha();
    const newKey = crypto.randomBytes(18).toString('base64');
    const before = ownSecrets(previewStack(8));
    const r = await previewRun(8, next, {
      extra: previewExtra(8),
      env: { APP_SECRET_KEY: newKey },
    });
    expect(r.exitCode).toBe(0);
    const comments = github.comments.filter((c) => c.issue === 8);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain(`\`${next}\``);
    expect(
      github.requests.slice(sent).filter((q) => q.method === 'PATCH' && q.path.includes('/issues/comments/')),
    ).toHaveLength(1);
    expect(github.deploymentsOf(previewStack(8)).map((d) => d.ref)).toEqual([...refs, next]);

    const after = ownSecrets(previewStack(8));
    expect(after).not.toBe(before);
    expect(after.split('\n')).toHaveLength(1); // the old version, no longer used, was removed
    expect(appSecret(previewStack(8)) === newKey).toBe(true);
    previewHeads.set(8, next);
    expectTidy(r, [newKey, 'test-token']);
  });

  test('3. teardown removes a preview and all it left behind, and its images; the others are untouched', async () => {
    const { sha: mainSha } = await ensureDeployed(BASE);
    const head7 = await ensurePreview(7);
    await ensurePreview(8);
    const tags = await registryTags('todobackend');
    expect(tags).toContain(`pr-7-${short(head7)}`);
    const r = await previewRun(7, head7, { mode: 'teardown', extra: { 'delete-images': 'true' } });
    expect(r.exitCode).toBe(0);
    expect(leftovers(previewStack(7))).toEqual(NOTHING);
    expect(r.summary).toContain(`Tore down ${previewStack(7)}`);
    expect(r.summary).toMatch(/volumes `todobackend-pr-7_db_data`/);

    const left = await registryTags('todobackend');
    expect(left.filter((t) => t.startsWith('pr-7-'))).toEqual([]);
    expect(left).toContain(short(mainSha));
    expect(left.some((t) => t.startsWith('pr-8-'))).toBe(true);

    expect(github.deploymentsOf(previewStack(7)).every((d) => d.statuses.at(-1)?.state === 'inactive')).toBe(
      true,
    );
    const [comment] = github.comments.filter((c) => c.issue === 7);
    expect(comment.body).toContain('was torn down');

    expect(await appAnswers('http://127.0.0.1:20008/')).toBe(true);
    expect(await appAnswers('http://127.0.0.1:8000/')).toBe(true);
    expect(leftovers(previewStack(8)).services).not.toBe('');
    expectTidy(r, ['test-token']);
  });

  test('4. tearing down a stack that is not there is a success with a note', async () => {
    // Set-up: nothing is left of preview 7 (torn down, as scenario 3 leaves it).
    if (JSON.stringify(leftovers(previewStack(7))) !== JSON.stringify(NOTHING))
      setUp('the teardown of preview 7', await previewRun(7, head7, { mode: 'teardown' }));
    const r = await previewRun(7, head7, { mode: 'teardown' });
    expect(r.exitCode).toBe(0);
    expect(r.log).toContain(`There is no stack ${previewStack(7)}: nothing to tear down`);
    expect(r.summary).toContain('nothing to tear down');
    expectTidy(r, ['test-token']);
  });

  test('5. a token GitHub refuses (a fork) only warns: the teardown still happens', async () => {
    const head = await ensurePreview(8);
    github.refuse = true;
    const before = github.requests.length;
    try {
      const r = await previewRun(8, head, { mode: 'teardown' });
      expect(r.exitCode).toBe(0);
      expect(r.log).toMatch(
        /::warning::GitHub refused to list deployments \(HTTP 403\).*deployments: write, pull-requests: write/,
      );
      // One refusal turns the feedback off: no call after it.
      expect(github.requests.length - before).toBe(1);
      expect(leftovers(previewStack(8))).toEqual(NOTHING);
    } finally {
      github.refuse = false;
    }
  });

  test('6. a cancelled preview run marks its Deployment error and says so in the comment', async () => {
    const head = randomSha();
    const r = await previewRun(9, head, { killAfter: 'One-shot services: started' });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('Received SIGTERM');
    const d = github.deploymentsOf(previewStack(9)).at(-1)!;
    expect(d.ref).toBe(head);
    expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
    const [comment] = github.comments.filter((c) => c.issue === 9);
    expect(comment.body).toContain('Preview deploy failed');
    expect(comment.body).toContain('cancelled (SIGTERM)');
    expectTidy(r, ['test-token']);
  });

  test('7. a failing preview marks its Deployment failure, and its comment gives the reason', async () => {
    const head = randomSha();
    const r = await previewRun(9, head, { extra: { 'build-args': 'MIGRATE_FAIL=always' } });
    expect(r.exitCode).toBe(1);
    const d = github.deploymentsOf(previewStack(9)).at(-1)!;
    expect(d.ref).toBe(head);
    expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    const comments = github.comments.filter((c) => c.issue === 9);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain('Preview deploy failed');
    expect(comments[0].body).toContain('todobackend-pr-9_migrate failed after 4 runs (1 + max_attempts 3)');
    expect(comments[0].body).toContain(`\`${head}\``);
    expectTidy(r, ['test-token']);
  });

  test('8. a teardown that cannot finish fails naming what is left, and leaves the Deployments active', async () => {
    // A container outside the stack holds the stack's volume, so Swarm's part goes but the volume stays.
    const stack = previewStack(9);
    // Set-up: preview 9 is there (a deploy of it that failed, as in scenario 7, will do).
    if (!leftovers(stack).services) await ensurePreview(9);
    const image = (await service(`${stack}_db`)).Spec.TaskTemplate.ContainerSpec.Image;
    const blocker = `${stack}-volume-user`;
    manager([
      'run',
      '-d',
      '--name',
      blocker,
      '--entrypoint',
      'sleep',
      '-v',
      `${stack}_db_data:/data`,
      image,
      '600',
    ]);
    try {
      const r = await previewRun(9, randomSha(), { mode: 'teardown', extra: { 'converge-timeout': '15' } });
      expect(r.exitCode).toBe(1);
      expect(r.log).toContain(
        `stack ${stack} was not gone after 15 s (converge-timeout); still there: volume ${stack}_db_data`,
      );
      expect(r.summary).toContain(`❌ Teardown of ${stack} failed`);
      expect(leftovers(stack)).toMatchObject({ services: '', containers: '' });
      const deployments = github.deploymentsOf(stack);
      expect(deployments.length).toBeGreaterThan(0);
      expect(deployments.every((d) => d.statuses.at(-1)?.state !== 'inactive')).toBe(true);
      const [comment] = github.comments.filter((c) => c.issue === 9);
      expect(comment.body).toContain(`Tearing down preview \`${stack}\` failed`);
      expect(comment.body).toContain('still there: volume');
      expectTidy(r, ['test-token']);
    } finally {
      manager(['rm', '-f', blocker]);
    }

    // With the volume free, tearing down again finishes the job.
    const again = await previewRun(9, randomSha(), { mode: 'teardown' });
    expect(again.exitCode).toBe(0);
    expect(leftovers(stack)).toEqual(NOTHING);
    expect(github.deploymentsOf(stack).every((d) => d.statuses.at(-1)?.state === 'inactive')).toBe(true);
  });

  test("13. a stranger's comment carrying the marker is left alone: the preview posts its own", async () => {
    const pr = 10;
    const stranger: Author = { login: 'mallory', type: 'User' };
    const forged = `<!-- ecr-swarm-deploy preview ${previewStack(pr)} -->\nforged by someone else`;
    const theirs = github.addComment(pr, forged, stranger);
    const sent = github.requests.length;
    const head = randomSha();
    const r = await previewRun(pr, head, { extra: { acceptance: 'false' } });
    expect(r.exitCode).toBe(0);
    const comments = github.comments.filter((c) => c.issue === pr);
    expect(comments).toHaveLength(2);
    expect(comments[0]).toEqual({ id: theirs.id, issue: pr, body: forged, user: stranger });
    expect(comments[1].user).toEqual(TOKEN_AUTHOR);
    expect(comments[1].body).toContain(`\`${head}\``);
    const calls = github.requests.slice(sent);
    // The token's identity is asked once, and no existing comment is edited or deleted.
    expect(calls.filter((q) => q.method === 'POST' && q.path === '/graphql')).toHaveLength(1);
    expect(calls.filter((q) => q.path.includes('/issues/comments/'))).toEqual([]);
    expect(r.log).not.toContain('::warning::');
    expectTidy(r, ['test-token']);
  });

  test("14. the preview policy reads docker's rendering: the Docker socket behind a YAML tag or a variable docker reads as unset, and production's volume, are refused before anything is built; preview-allow lets a named network through", async () => {
    const pr = 14;
    const stack = previewStack(pr);
    const fixtureText = fs.readFileSync(`${repoRoot}/e2e/fixture/stack.yml`, 'utf8');
    const fixture = () =>
      parse(fixtureText) as {
        services: Record<string, Record<string, unknown>>;
        volumes: Record<string, unknown>;
        networks: Record<string, unknown>;
      };
    // Each a bind of the manager's Docker socket once docker has read it.
    const hostile = fixtureText
      .replace(
        '    secrets: [secret_key]\n',
        [
          '    secrets: [secret_key]',
          '    volumes:',
          '      - !!binary L3Zhci9ydW4vZG9ja2VyLnNvY2s6L3Zhci9ydW4vZG9ja2VyLnNvY2s=',
          '      - "$valueOf/var/run/docker.sock:/var/run/docker.sock"',
          '',
        ].join('\n'),
      )
      .replace('volumes:\n  db_data:\n', 'volumes:\n  db_data:\n    name: todobackend_db_data\n');
    const sent = github.requests.length;
    const ecrBefore = ecrRequests();
    const refused = await previewRun(pr, randomSha(), {
      files: { 'stack-pr.yml': hostile },
      extra: { 'stack-file': 'stack-pr.yml' },
    });
    expect(refused.exitCode).toBe(1);
    const errors = refused.lines.filter((l) => l.text.startsWith('::error::')).map((l) => l.text);
    expect(errors).toHaveLength(1);
    const socket =
      "service app mounts /var/run/docker.sock, the manager's Docker socket (allow it with bind:/var/run/docker.sock)";
    expect(errors[0].split(socket)).toHaveLength(3);
    expect(errors[0]).toContain(
      "volume db_data is a volume named todobackend_db_data, outside the preview's stack (allow it with volume:todobackend_db_data)",
    );
    expect(refused.summary).toContain('## ❌ The stack file cannot be deployed');
    // Nothing built, nothing asked of ECR or GitHub, nothing on the swarm.
    expect(refused.log).not.toContain('[command]');
    expect(ecrRequests()).toBe(ecrBefore);
    expect(github.requests.slice(sent)).toEqual([]);
    expect(manager(['service', 'ls', '-q', '--filter', `name=${stack}_`]).trim()).toBe('');
    expectTidy(refused, ['test-token']);

    const network = `esd-shared-${crypto.randomBytes(3).toString('hex')}`;
    manager(['network', 'create', '--driver', 'overlay', '--attachable', network]);
    try {
      const joining = fixture();
      joining.networks.proxy = { external: true, name: network };
      joining.services.app.networks = ['net', 'proxy'];
      const files = { 'stack-pr.yml': stringify(joining) };
      const extra = { 'stack-file': 'stack-pr.yml', acceptance: 'false' };
      const notAllowed = await previewRun(pr, randomSha(), { files, extra });
      expect(notAllowed.exitCode).toBe(1);
      expect(notAllowed.log).toContain(`(allow it with network:${network})`);
      // Joining it, the preview would answer there to the names production's containers look up.
      expect(notAllowed.log).toContain(
        `service app joins network proxy, which it shares with what runs outside the preview: the containers there would have the preview answer names they look up (app, tasks.app)`,
      );
      expect(manager(['service', 'ls', '-q', '--filter', `name=${stack}_`]).trim()).toBe('');

      const allow = { ...extra, 'preview-allow': `network:${network}, option:networks.names` };
      const allowed = await previewRun(pr, randomSha(), { files, extra: allow });
      expect(allowed.exitCode).toBe(0);
      const app = await service(`${stack}_app`);
      const networks = (app.Spec.TaskTemplate as { Networks?: { Target: string }[] }).Networks ?? [];
      const id = manager(['network', 'inspect', '--format', '{{.Id}}', network]).trim();
      expect(networks.map((n) => n.Target)).toContain(id);
      expectTidy(allowed, ['test-token']);
    } finally {
      await removeStack(stack);
      manager(['network', 'rm', network]);
    }
  });

  describe('release promotion', () => {
    const ecr = new ECRClient({
      region: 'us-east-1',
      endpoint: sb.ECR_ENDPOINT,
      credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY },
    });
    const promote = (sha: string, extra: Record<string, string> = {}) =>
      run({
        inputs: inputs({ mode: 'promote', 'extra-tags': 'latest', ...extra }),
        sha,
        env: { GITHUB_REF: 'refs/tags/v1.2.3' },
      });
    const tagMutability = (imageTagMutability: 'MUTABLE' | 'IMMUTABLE') =>
      ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'todobackend', imageTagMutability }));
    afterAll(() => tagMutability('MUTABLE'));

    test('9. the tested image gets the version tag without a build, and the stack runs the version', async () => {
      const mainSha = await mainCommit();
      await tagMutability('MUTABLE');
      const tested = await registryDigest('todobackend', short(mainSha));
      const r = await promote(mainSha);
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({
        'promoted-tags': 'v1.2.3,latest',
        tag: 'v1.2.3',
        digest: tested,
        migrate: 'complete',
      });
      expect(await registryDigest('todobackend', 'v1.2.3')).toBe(tested);
      expect(await registryDigest('todobackend', 'latest')).toBe(tested);
      expect(r.log).not.toContain('Build and push');
      expect(r.log).not.toMatch(/Step \d+\/\d+ : FROM/);
      const app = await service(`${BASE}_app`);
      expect(app.Spec.TaskTemplate.ContainerSpec.Image).toContain(`/todobackend:v1.2.3@${tested}`);
      expect(r.summary).toContain('Promoted to');
      expect(r.summary).toContain(`a deploy passed with this image (\`passed-${short(mainSha)}\`)`);
      expectTidy(r);
    });

    test('10. an OCI image is promoted as it is: its media type and digest are kept', async () => {
      const mainSha = await mainCommit();
      await tagMutability('MUTABLE');
      // The sandbox builds Docker v2 manifests: write the same image as an OCI manifest under a tag of its own.
      const docker = JSON.parse(
        await (
          await registryApi('todobackend', 'GET', `manifests/${short(mainSha)}`, { accept: DOCKER_V2 })
        ).text(),
      ) as { config: Record<string, unknown>; layers: Record<string, unknown>[] };
      const oci = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { ...docker.config, mediaType: 'application/vnd.oci.image.config.v1+json' },
        layers: docker.layers.map((l) => ({
          ...l,
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        })),
      });
      const put = await registryApi(
        'todobackend',
        'PUT',
        `manifests/oci-${short(mainSha)}`,
        { 'content-type': OCI_MANIFEST },
        oci,
      );
      expect(put.status).toBe(201);
      const ociDigest = put.headers.get('docker-content-digest');

      const r = await promote(mainSha, {
        'image-tag': `oci-${short(mainSha)}`,
        'release-tag': 'v2.0.0',
        'extra-tags': '',
        acceptance: 'false',
        // A tag written here, not by a deploy: no deploy recorded passing with it.
        'promote-untested': 'true',
      });
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({ digest: ociDigest, 'promoted-tags': 'v2.0.0' });
      expect(r.summary).toContain('skipped (promote-untested: true)');
      const released = await registryApi('todobackend', 'GET', 'manifests/v2.0.0', {
        accept: `${OCI_MANIFEST}, ${DOCKER_V2}`,
      });
      expect(released.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(released.headers.get('docker-content-digest')).toBe(ociDigest);
      expect((await service(`${BASE}_app`)).Spec.TaskTemplate.ContainerSpec.Image).toContain(
        `/todobackend:v2.0.0@${ociDigest}`,
      );
      expectTidy(r);
    });

    test('11. a commit without an image fails naming the commit once promote-wait is over, and nothing is deployed', async () => {
      await ensureDeployed(BASE);
      const missing = randomSha();
      const before = (await service(`${BASE}_app`)).Version.Index;
      const r = await promote(missing, { 'promote-wait': '0' });
      expect(r.exitCode).toBe(1);
      expect(r.log).toContain(
        `commit ${missing}: todobackend:${short(missing)} is not in ECR yet, after waiting 0 s (promote-wait)`,
      );
      expect((await service(`${BASE}_app`)).Version.Index).toBe(before);
      expectTidy(r);
    });

    test('12. immutable tags: promoting the same image again is fine, moving the tag is refused clearly', async () => {
      const mainSha = await mainCommit();
      // Set-up: v1.2.3 and latest name the tested image, as scenario 9 leaves them; and pull request
      // 8's image, another one, is in ECR.
      await tagMutability('MUTABLE');
      const tested = await registryDigest('todobackend', short(mainSha));
      const released = [
        await registryDigest('todobackend', 'v1.2.3'),
        await registryDigest('todobackend', 'latest'),
      ];
      if (released.some((digest) => digest !== tested))
        setUp(`the promotion of ${mainSha}`, await promote(mainSha, { acceptance: 'false' }));
      const head = previewHeads.get(8) ?? (await ensurePreview(8));
      await tagMutability('IMMUTABLE');
      const again = await promote(mainSha, { acceptance: 'false' });
      expect(again.exitCode).toBe(0);
      expect(again.log).toContain('todobackend:v1.2.3 is already sha256:');

      const other = await promote(mainSha, {
        'image-tag': `pr-8-${short(head)}`,
        acceptance: 'false',
        'promote-untested': 'true',
      });
      expect(other.exitCode).toBe(1);
      expect(other.log).toContain('todobackend:v1.2.3 already exists as another image');
      expect(other.log).toContain('tags are immutable: release a new version tag');
    });

    // Staging runs on the same swarm here, on a port of its own.
    const staging = stackInputs(STAGING, 18000);

    test("15. the shipped shape: a version tag pushed with its commit waits for main's deploy of it to staging, then releases it to production; the staging deploy never touches production", async () => {
      await tagMutability('MUTABLE');
      const prod = await ensureDeployed(BASE);
      const sha = randomSha();
      const releasing = promote(sha, { 'release-tag': 'v3.0.0', 'extra-tags': '' });
      const deploying = run({ inputs: staging(), sha });
      const [released, deployed] = await Promise.all([releasing, deploying]);
      expect(deployed.exitCode).toBe(0);
      expect(deployed.log).toMatch(
        new RegExp(`Tagged todobackend@sha256:[0-9a-f]{64} as passed-${short(sha)}`),
      );
      expect(deployed.summary).toContain(`\`passed-${short(sha)}\` on the image in ECR`);
      expect(released.exitCode).toBe(0);
      expect(released.log).toContain(
        `Waiting for the deploy of commit ${sha}: todobackend:${short(sha)} is not in ECR yet`,
      );
      const tested = deployed.outputs.digest;
      expect(await registryDigest('todobackend', 'v3.0.0')).toBe(tested);
      const app = await service(`${BASE}_app`);
      expect(app.Spec.TaskTemplate.ContainerSpec.Image).toContain(`/todobackend:v3.0.0@${tested}`);
      // Production went from its own last version straight to the release: the staging deploy of the
      // same commit never changed it.
      expect(app.PreviousSpec?.TaskTemplate.ContainerSpec.Image).toBe(`${prod.image}@${prod.digest}`);
      expect((await service(`${STAGING}_app`)).Spec.TaskTemplate.ContainerSpec.Image).toBe(
        `${deployed.outputs.image}@${tested}`,
      );
      expectTidy(released);
      expectTidy(deployed);
    });

    test('16. a commit whose deploy failed its acceptance tests is refused at once, naming the commit and what failed; production is unchanged', async () => {
      await ensureDeployed(BASE);
      const sha = randomSha();
      const deployed = await run({
        inputs: staging({ 'build-args': 'BREAK_ENDPOINT=patch' }),
        sha,
      });
      expect(deployed.exitCode).toBe(1);
      expect(deployed.log).toMatch(
        new RegExp(`Tagged todobackend@sha256:[0-9a-f]{64} as failed-tests-${short(sha)}`),
      );
      const before = (await service(`${BASE}_app`)).Version.Index;
      const r = await promote(sha, { 'release-tag': 'v3.0.1', 'extra-tags': '' });
      expect(r.exitCode).toBe(1);
      expect(r.log).toContain(
        `commit ${sha} is not released: its deploy failed: its acceptance tests failed with todobackend@${deployed.outputs.digest} (failed-tests-${short(sha)})`,
      );
      expect(r.log).not.toContain('Waiting for the deploy');
      expect(await registryTags('todobackend')).not.toContain('v3.0.1');
      expect((await service(`${BASE}_app`)).Version.Index).toBe(before);
      expectTidy(r);
    });
  });
});
