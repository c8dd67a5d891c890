// Several images of the stack's own: the fixture app (built from the inputs, ecr-repository) and a
// proxy built from the stack file's build: section (e2e/fixture/stack-images.yml), through every mode:
// both built, pushed and pinned, one failing to build, a repository missing, a preview and its
// teardown, promotion. The stack is images, published on 8320 (previews on 20000 + the pull request).
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  createRepository,
  expectTidy,
  stackInputs,
  manager,
  randomSha,
  registryTags,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  setUp,
  type RunResult,
} from './helpers.js';
import fs from 'node:fs';

jest.setTimeout(240_000);

const STACK = 'images';
const PORT = 8320;
const PR = 31;
const APP = 'todobackend';
const PROXY = 'todobackend-proxy';
const stackFile = fs.readFileSync(`${repoRoot}/e2e/fixture/stack-images.yml`, 'utf8');
const short = (sha: string) => sha.slice(0, 7);

const stepInputs = (overrides: Record<string, string> = {}) =>
  stackInputs(STACK, PORT)({ 'stack-file': 'stack-images.yml', ...overrides });
const files = (text = stackFile) => ({ 'stack-images.yml': text });

/** The image each service of stack runs (its spec), by service. */
async function specImages(stack: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['app', 'db', 'migrate', 'proxy'])
    out[name] = (await service(`${stack}_${name}`)).Spec.TaskTemplate.ContainerSpec.Image;
  return out;
}

/** What the proxy's container answers on its own port (it publishes none). */
function proxyAnswer(stack: string): string {
  const id = manager(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_proxy`])
    .trim()
    .split('\n')[0];
  return manager(['exec', id, 'curl', '-s', 'http://127.0.0.1:8080/']);
}

const images = (r: RunResult) =>
  JSON.parse(r.outputs.images) as { reference: string; digest: string; services: string[] }[];

/** The last successful deploy here: its commit and each image's digest. */
let deployed: { sha: string; digests: Record<string, string> } | undefined;

async function ensureDeployed(): Promise<{ sha: string; digests: Record<string, string> }> {
  if (deployed) return deployed;
  const sha = randomSha();
  const r = setUp('a deploy of both images', await run({ inputs: stepInputs(), files: files(), sha }));
  deployed = { sha, digests: Object.fromEntries(images(r).map((i) => [i.reference, i.digest])) };
  return deployed;
}

beforeAll(async () => {
  await createRepository(PROXY);
  await removeStack(STACK);
});
afterAll(async () => {
  await removeStack(STACK);
  await removeStack(`${STACK}-pr-${PR}`);
});

describe('several images of the stack', () => {
  test('1. both built (the app from the inputs, the proxy from its build: section), pushed, each service pinned to its own digest; the tests pass', async () => {
    const sha = randomSha();
    const r = await run({ inputs: stepInputs(), files: files(), sha });
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({
      migrate: 'complete',
      'tests-passed-count': '7',
      'tests-failed-count': '0',
    });
    const [app, proxy] = images(r);
    expect(app).toMatchObject({
      reference: `${sb.REGISTRY}/${APP}:${short(sha)}`,
      services: ['app', 'db', 'migrate'],
    });
    expect(proxy).toMatchObject({ reference: `${sb.REGISTRY}/${PROXY}:${short(sha)}`, services: ['proxy'] });
    // image and digest are the first image's.
    expect(r.outputs.digest).toBe(app.digest);
    expect(await specImages(STACK)).toEqual({
      app: `${app.reference}@${app.digest}`,
      db: `${app.reference}@${app.digest}`,
      migrate: `${app.reference}@${app.digest}`,
      proxy: `${proxy.reference}@${proxy.digest}`,
    });
    // Each service says which of the run's images it runs.
    const labels = (await service(`${STACK}_proxy`)).Spec.Labels ?? {};
    expect(labels['com.github.ecr-swarm-deploy.image']).toBe(`${proxy.reference}@${proxy.digest}`);
    expect(proxyAnswer(STACK)).toBe('todobackend static files\n');
    // Built before either is pushed; each with its own cache tag.
    const log = r.log.split('\n');
    const lastBuild = log.length - 1 - [...log].reverse().findIndex((l) => /\[command\]\S+ build /.test(l));
    const firstPush = log.findIndex((l) => /\[command\]\S+ push /.test(l));
    expect(lastBuild).toBeLessThan(firstPush);
    expect(await registryTags(PROXY)).toEqual(expect.arrayContaining([short(sha), 'buildcache']));
    expect(r.summary).toContain('### Images');
    expect(r.summary).toMatch(
      new RegExp(`\\| \`${sb.REGISTRY}/${PROXY}:${short(sha)}\` \\| \`sha256:[0-9a-f]{12}\` \\| [\\d.]+ s, `),
    );
    deployed = { sha, digests: { [app.reference]: app.digest, [proxy.reference]: proxy.digest } };
    expectTidy(r);
  });

  test('2. the proxy failing to build: nothing of the commit pushed, nothing deployed', async () => {
    await ensureDeployed();
    const before = await specImages(STACK);
    const sha = randomSha();
    const r = await run({
      inputs: stepInputs({ 'stack-env': `PREVIEW_PORT=${PORT}\nPROXY_FAIL=always` }),
      files: files(),
      sha,
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain('proxy: build failed (PROXY_FAIL=always)');
    expect(r.log).not.toMatch(/\[command\]\S+ push /);
    expect(await registryTags(APP)).not.toContain(short(sha));
    expect(await registryTags(PROXY)).not.toContain(short(sha));
    expect(await specImages(STACK)).toEqual(before);
    expectTidy(r);
  });

  test("3. the second image's repository missing: refused before any build, naming it", async () => {
    const r = await run({
      inputs: stepInputs(),
      files: files(stackFile.replace(`/${PROXY}:`, '/todobackend-missing:')),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      "stack-file: no repository todobackend-missing in 127.0.0.1:5000 (us-east-1): create it (aws ecr create-repository --repository-name todobackend-missing), or correct the service's image:, registry-id or aws-region",
    );
    expect(r.log).not.toMatch(/\[command\]\S+ build /);
    expectTidy(r);
  });

  test('4. a preview tags both images pr-N-SHA; its teardown with delete-images deletes both', async () => {
    const head = randomSha();
    const event = {
      name: 'pull_request',
      payload: { action: 'synchronize', pull_request: { number: PR, head: { sha: head } } },
    };
    const preview = {
      mode: 'preview',
      'app-url': 'http://127.0.0.1:{port}',
      'github-token': '',
      // A preview's stack file uses the run's variables only: the proxy's build argument too.
      'stack-env': 'PROXY_FAIL=never',
      // A pull request pushes to ecr-repository, and to the proxy's repository as the workflow allows.
      'preview-allow': `repository:${PROXY}`,
    };
    const r = await run({ inputs: stepInputs(preview), files: files(), sha: randomSha(), event });
    expect(r.exitCode).toBe(0);
    const tag = `pr-${PR}-${short(head)}`;
    expect(images(r).map((i) => i.reference)).toEqual([
      `${sb.REGISTRY}/${APP}:${tag}`,
      `${sb.REGISTRY}/${PROXY}:${tag}`,
    ]);
    expect(await registryTags(PROXY)).toContain(tag);
    expect(proxyAnswer(`${STACK}-pr-${PR}`)).toBe('todobackend static files\n');

    // The same step's inputs at close: its repository: grant is where the teardown deletes besides ecr-repository.
    const teardown = {
      mode: 'teardown',
      'delete-images': 'true',
      'github-token': '',
      'preview-allow': `repository:${PROXY}`,
    };
    const t = await run({ inputs: stepInputs(teardown), files: files(), sha: randomSha(), event });
    expect(t.exitCode).toBe(0);
    // The tags deleted, in the order the registry lists them.
    const deleted = new RegExp(`^Deleted ${PROXY}:(.*)$`, 'm').exec(t.log)?.[1].split(', ');
    expect(deleted).toContain(tag);
    for (const repository of [APP, PROXY])
      expect((await registryTags(repository)).filter((x) => x.startsWith(`pr-${PR}-`))).toEqual([]);
    expectTidy(t);
  });

  test('5. promote gives both images of the commit the release tag, and the stack runs them', async () => {
    const { sha, digests } = await ensureDeployed();
    const version = `v1.${Date.now() % 100000}.0`;
    const r = await run({
      inputs: stepInputs({ mode: 'promote', 'release-tag': version }),
      files: files(),
      sha,
    });
    expect(r.exitCode).toBe(0);
    expect(await registryTags(PROXY)).toContain(version);
    const running = await specImages(STACK);
    expect(running.proxy).toBe(
      `${sb.REGISTRY}/${PROXY}:${version}@${digests[`${sb.REGISTRY}/${PROXY}:${short(sha)}`]}`,
    );
    expect(running.app).toBe(
      `${sb.REGISTRY}/${APP}:${version}@${digests[`${sb.REGISTRY}/${APP}:${short(sha)}`]}`,
    );
    expect(r.log).not.toMatch(/\[command\]\S+ build /);
    expectTidy(r);
  });
});
