// The build as hosted runners need it: a build cache that survives a runner starting with an empty
// Docker, BuildKit build secrets that stay out of the image and the log, and OCI labels on the image.
// Each scenario pushes to a repository of its own (nothing cached there yet, and no other scenario's
// cache tag) and deploys the fixture app as stack buildcache, published on 8310.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  createRepository,
  expectTidy,
  stackInputs,
  randomSha,
  registryApi,
  registryTags,
  removeStack,
  repoRoot,
  run,
  sb,
  type RunResult,
} from './helpers.js';

jest.setTimeout(600_000);

const STACK = 'buildcache';
const PORT = 8310;
/** The preview's pull request: its stack publishes on 8300 + PR. */
const PR = 12;
const fixtureStack = fs.readFileSync(`${repoRoot}/e2e/fixture/stack.yml`, 'utf8');

/**
 * The runner's docker CLI: 28, first on PATH, without buildx (the classic builder); and the same with
 * BuildKit, docker build going to Debian's 20.10 client with BuildKit on, as no buildx binary can be
 * installed here (see make_buildkit_cli in sandbox.sh).
 */
const CLI_28 = { PATH: process.env.PATH ?? '' };
const BUILDKIT = { PATH: `${sb.BUILDKIT_CLI_DIR}:${process.env.PATH ?? ''}` };

/** The repositories the scenarios pushed to, whose images the runner's engine drops at the end. */
const repositories = new Set<string>();

/** A repository no other run has pushed to, created in ECR as a user would before the first push. */
async function freshRepository(what: string): Promise<string> {
  const repository = `build-${what}-${randomSha().slice(0, 8)}`;
  await createRepository(repository);
  repositories.add(repository);
  return repository;
}

/** The fixture's stack file, its images in repository; and a change to the app's code, when given. */
const workspace = (repository: string, codeChange?: string): Record<string, string> => ({
  'stack.yml': fixtureStack.replaceAll('/todobackend:', `/${repository}:`),
  ...(codeChange ? { 'src/change.txt': codeChange } : {}),
});

const stepInputs = (repository: string, overrides: Record<string, string> = {}) =>
  stackInputs(STACK, PORT)({ 'ecr-repository': repository, ...overrides });

/** The runner's own engine, which builds and pushes. */
const runnerDocker = (args: string[]) =>
  execFileSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, ...args], { encoding: 'utf8' });

/**
 * What a new hosted runner lacks: the repository's images and BuildKit's cache. (Not `image prune -a`:
 * it would remove the sandbox's base image, which no registry has.)
 */
function coldRunner(repository: string): void {
  removeImages(repository);
  runnerDocker(['builder', 'prune', '-af']);
  expect(runnerDocker(['images', '-q', `${sb.REGISTRY}/${repository}`]).trim()).toBe('');
}

/** Every image of repository on the runner's engine, whatever its tags. */
function removeImages(repository: string): void {
  const ids = runnerDocker(['images', '--format', '{{.Repository}} {{.ID}}'])
    .split('\n')
    .filter((l) => l.startsWith(`${sb.REGISTRY}/${repository} `))
    .map((l) => l.split(' ')[1]);
  if (ids.length > 0) runnerDocker(['rmi', '-f', ...new Set(ids)]);
}

function expectDeployed(r: RunResult, secrets: string[] = []): void {
  expect({ exitCode: r.exitCode, errors: r.lines.filter((l) => l.text.startsWith('::error::')) }).toEqual({
    exitCode: 0,
    errors: [],
  });
  expect(r.outputs).toMatchObject({ stack: STACK, migrate: 'complete', 'tests-failed-count': '0' });
  expectTidy(r, secrets);
}

/** A phase's duration from the job summary's table. */
function phaseSeconds(r: RunResult, phase: string): number {
  const m = new RegExp(`^\\| ${phase} \\| .* \\| ([\\d.]+) s \\|$`, 'm').exec(r.summary);
  if (!m) throw new Error(`no phase ${phase} in the summary`);
  return Number(m[1]);
}

/** The log of the RUN step that sleeps, reused or run: classic "Using cache", BuildKit "CACHED". */
const SLEEP_STEP = /RUN sleep 8/;
const reused = (r: RunResult) => {
  const at = r.lines.findIndex((l) => SLEEP_STEP.test(l.text));
  const step = r.lines.slice(at, at + 4).map((l) => l.text);
  return step.some((l) => / ---> Using cache$|^#\d+ CACHED$/.test(l));
};

/** The pushed image's configuration, from the registry. */
async function pushedConfig(
  repository: string,
  tag: string,
): Promise<{ config: { Labels?: Record<string, string> } }> {
  const manifest = (await (
    await registryApi(repository, 'GET', `manifests/${tag}`, {
      accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    })
  ).json()) as { config: { digest: string } };
  return (await (await registryApi(repository, 'GET', `blobs/${manifest.config.digest}`)).json()) as {
    config: { Labels?: Record<string, string> };
  };
}

const cleanUp = async () => {
  await removeStack(STACK);
  await removeStack(`${STACK}-pr-${PR}`);
};
beforeAll(cleanUp);
afterAll(async () => {
  await cleanUp();
  for (const repository of repositories) removeImages(repository);
});

describe('build cache on a runner that starts with an empty Docker', () => {
  test.each([
    [
      '28, the classic builder',
      CLI_28,
      / ---> Using cache$/m,
      /^Build cache: no build cache from \S+:buildcache /m,
    ],
    ['28 with BuildKit', BUILDKIT, /^#\d+ CACHED$/m, /^Build cache: no build cache from \S+:buildcache /m],
  ])(
    'docker CLI %s: a code-only change reuses the dependency layer of the last build',
    async (cli, env, cachedLine, noCacheYet) => {
      const repository = await freshRepository('cache');
      const step = stepInputs(repository, { dockerfile: 'Dockerfile.cache' });
      coldRunner(repository);
      const first = await run({ inputs: step, files: workspace(repository), sha: randomSha(), env });
      expectDeployed(first);
      expect(first.log).toMatch(noCacheYet);
      expect(reused(first)).toBe(false);
      expect(await registryTags(repository)).toContain('buildcache');

      coldRunner(repository);
      const second = await run({
        inputs: step,
        files: workspace(repository, randomSha()),
        sha: randomSha(),
        env,
      });
      expectDeployed(second);
      expect(second.log).toMatch(cachedLine);
      expect(reused(second)).toBe(true);
      const cold = phaseSeconds(first, 'Build and push');
      const cached = phaseSeconds(second, 'Build and push');

      // A build that took its layers from the cache leaves a cache the next cold runner reuses too.
      coldRunner(repository);
      const third = await run({
        inputs: step,
        files: workspace(repository, randomSha()),
        sha: randomSha(),
        env,
      });
      expectDeployed(third);
      expect(reused(third)).toBe(true);

      // The same change on a cold runner without the cache runs the layer again.
      coldRunner(repository);
      const uncached = await run({
        inputs: { ...step, cache: 'false' },
        files: workspace(repository, randomSha()),
        sha: randomSha(),
        env,
      });
      expectDeployed(uncached);
      expect(reused(uncached)).toBe(false);
      const without = phaseSeconds(uncached, 'Build and push');
      console.log(
        `docker CLI ${cli}, Build and push on a cold runner: first build ${cold} s; code change with cache ${cached} s, without ${without} s`,
      );
    },
  );

  test("a preview writes its pull request's own cache tag, which its teardown deletes", async () => {
    const repository = await freshRepository('preview');
    const head = randomSha();
    const event = (action: string) => ({
      name: 'pull_request',
      payload: { action, pull_request: { number: PR, head: { sha: head } } },
    });
    const preview = await run({
      inputs: stepInputs(repository, {
        mode: 'preview',
        'stack-env': '',
        'preview-port-base': '8300',
        'app-url': 'http://127.0.0.1:{port}',
        'github-token': '',
      }),
      files: workspace(repository),
      event: event('synchronize'),
    });
    expect(preview.exitCode).toBe(0);
    expectTidy(preview);
    expect((await registryTags(repository)).sort()).toEqual(
      [`pr-${PR}-${head.slice(0, 7)}`, `pr-${PR}-buildcache`].sort(),
    );

    const teardown = await run({
      inputs: stepInputs(repository, {
        mode: 'teardown',
        'stack-env': '',
        'app-url': '',
        'github-token': '',
        'delete-images': 'true',
      }),
      files: workspace(repository),
      event: event('closed'),
    });
    expect(teardown.exitCode).toBe(0);
    expect(await registryTags(repository)).toEqual([]);
  });
});

describe('build secrets', () => {
  const token = `tok-${randomSha()}`;
  const secretInputs = (repository: string) =>
    stepInputs(repository, { dockerfile: 'Dockerfile.secret', 'build-secrets': 'app_token=APP_BUILD_TOKEN' });

  test('docker CLI 28 with BuildKit: the build gets the secret; neither the image nor the log has it', async () => {
    const repository = await freshRepository('secret');
    const r = await run({
      inputs: secretInputs(repository),
      files: workspace(repository),
      sha: randomSha(),
      env: { ...BUILDKIT, APP_BUILD_TOKEN: token },
    });
    expectDeployed(r, [token]);
    expect(r.log).toMatch(/--secret id=app_token,src=\S+\/build-secrets-\w+\/0/);
    const image = r.outputs.image;
    const sha256 = createHash('sha256').update(token).digest('hex');
    expect(runnerDocker(['run', '--rm', '--entrypoint', 'cat', image, '/app-token.sha256']).trim()).toBe(
      sha256,
    );
    expect(runnerDocker(['history', '--no-trunc', image])).not.toContain(token);
    expect(runnerDocker(['image', 'inspect', image])).not.toContain(token);
  });

  test('docker CLI 28 without buildx: fails before the build, naming build-secrets and the fix', async () => {
    const repository = await freshRepository('secret');
    const r = await run({
      inputs: secretInputs(repository),
      files: workspace(repository),
      sha: randomSha(),
      env: { ...CLI_28, APP_BUILD_TOKEN: token },
    });
    expect(r.exitCode).toBe(1);
    expect(r.lines.filter((l) => l.text.startsWith('::error::')).map((l) => l.text)).toEqual([
      '::error::build-secrets need BuildKit, and this docker CLI builds with the classic builder only: install buildx (docker/setup-buildx-action, or the docker-buildx-plugin package), or remove build-secrets',
    ]);
    expect(r.log).not.toMatch(/\[command\]\S*docker (--config \S+ (--host \S+ )?)?(build|push|stack)/);
    expect(await registryTags(repository)).toEqual([]);
    expectTidy(r, [token]);
  });

  test('an empty secret variable: the input problem and the env: fix, nothing done', async () => {
    const repository = await freshRepository('secret');
    const r = await run({ inputs: secretInputs(repository), files: workspace(repository), sha: randomSha() });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      '::error::build-secrets: app_token takes its value from APP_BUILD_TOKEN, which is empty: add "env: APP_BUILD_TOKEN: ${{ secrets.APP_BUILD_TOKEN }}" to the step',
    );
    expect(r.log).not.toContain('[command]');
    expectTidy(r);
  });
});

describe('labels', () => {
  test('the pushed image carries the OCI labels and the labels input', async () => {
    const repository = await freshRepository('labels');
    // The pushed commit, checked out: its time is the image's created label.
    const r = await run({
      inputs: stepInputs(repository, {
        labels: 'org.opencontainers.image.title=Todo Backend\ncom.example.team=web',
      }),
      files: workspace(repository),
      sha: 'HEAD',
    });
    expectDeployed(r);
    const { sha } = r;
    const labels = (await pushedConfig(repository, sha.slice(0, 7))).config.Labels ?? {};
    expect(labels).toMatchObject({
      'org.opencontainers.image.source': 'https://github.example/example/todobackend',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.version': sha.slice(0, 7),
      'org.opencontainers.image.title': 'Todo Backend',
      'com.example.team': 'web',
    });
    // When the commit was made (the harness commits the workspace at this time).
    expect(labels['org.opencontainers.image.created']).toBe('2026-01-01T00:00:00Z');
  });
});

describe('the ECR repository', () => {
  test('one that does not exist is refused before the build, naming it and how to create it', async () => {
    const repository = `build-missing-${randomSha().slice(0, 8)}`;
    const r = await run({ inputs: stepInputs(repository), files: workspace(repository), sha: randomSha() });
    expect(r.exitCode).toBe(1);
    expect(r.lines.filter((l) => l.text.startsWith('::error::')).map((l) => l.text)).toEqual([
      `::error::ecr-repository: no repository ${repository} in ${sb.REGISTRY} (us-east-1): create it (aws ecr create-repository --repository-name ${repository}), or correct ecr-repository, registry-id or aws-region`,
    ]);
    expect(r.log).not.toMatch(/\[command\]\S*docker build/);
    expectTidy(r);
  });
});
