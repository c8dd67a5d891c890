// An image built outside the action, as docker/build-push-action builds and pushes it, deployed by its
// digest with the image input; and a registry in a second account (registry-id). The bundled dist/ run
// as the runner runs it, against the sandbox's Swarm, registry, sshd and ECR emulator.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { expectTidy, randomSha, removeStack, repoRoot, run, sb, service, stackInputs } from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'prebuilt';
const PORT = 8400;
// The ECR emulator's second account: the sandbox registry under the host name localhost
// (e2e/ecr-emulator.mjs); it knows no other account.
const TOOLS_ACCOUNT = '210987654321';
const TOOLS_REGISTRY = sb.REGISTRY.replace('127.0.0.1', 'localhost');
const UNKNOWN_ACCOUNT = '999999999999';
const short = (sha: string) => sha.slice(0, 7);
const randomDigest = () => `sha256:${randomSha()}${randomSha().slice(0, 24)}`;

/** The step's with: this stack on a port of its own; ecr-repository left out, image names it. */
const stepInputs = (extra: Record<string, string>) =>
  stackInputs(STACK, PORT)({ 'ecr-repository': '', ...extra });

/**
 * What a workflow's docker/build-push-action step does before this one: builds the fixture app (a
 * label of its own makes it a new image) with the runner's docker and pushes it to the registry, with
 * credentials of its own. Returns its digest. The runner's engine is then left without the image, as
 * the deploy job of a workflow that builds in another job starts.
 */
function buildAndPushOutside(tag: string): string {
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-build-'));
  const password = fs.readFileSync(sb.REGISTRY_PASSWORD_FILE, 'utf8').trim();
  const auth = Buffer.from(`AWS:${password}`).toString('base64');
  fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [sb.REGISTRY]: { auth } } }), {
    mode: 0o600,
  });
  const docker = (...args: string[]) =>
    execFileSync('docker', ['-H', sb.RUNNER_DOCKER_HOST, ...args], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const ref = `${sb.REGISTRY}/todobackend:${tag}`;
  try {
    docker(
      'build',
      '--quiet',
      '--label',
      `built-outside=${tag}`,
      '--tag',
      ref,
      path.join(repoRoot, 'e2e/fixture'),
    );
    docker('push', ref);
    const repoDigests = JSON.parse(
      docker('image', 'inspect', '--format', '{{json .RepoDigests}}', ref),
    ) as string[];
    const digest = repoDigests.find((d) => d.startsWith(`${sb.REGISTRY}/todobackend@`))?.split('@')[1];
    if (!digest) throw new Error(`no registry digest for ${ref}: ${repoDigests.join(', ')}`);
    docker('image', 'rm', ref);
    return digest;
  } finally {
    fs.rmSync(config, { recursive: true, force: true });
  }
}

/** The app service's spec version, or undefined when the stack has no app: to see that nothing was deployed. */
const appVersion = () =>
  service(`${STACK}_app`).then(
    (s) => s.Version.Index,
    () => undefined,
  );

const appImage = async () => (await service(`${STACK}_app`)).Spec.TaskTemplate.ContainerSpec.Image;

/** docker commands the action ran (the runner logs each as [command]). */
const commands = (log: string, verb: string) =>
  log.split('\n').filter((l) => new RegExp(`^\\[command\\]\\S*docker ${verb} `).test(l));

beforeAll(async () => {
  await removeStack(STACK);
});

afterAll(async () => {
  await removeStack(STACK);
});

describe('image: an image built elsewhere', () => {
  test('1. built and pushed outside the action, deployed by its digest: no build, pulled only for the tests', async () => {
    const tag = `outside-${short(randomSha())}`;
    const digest = buildAndPushOutside(tag);
    const r = await run({
      inputs: stepInputs({ image: `${sb.REGISTRY}/todobackend:${tag}@${digest}` }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(0);
    expect(commands(r.log, 'build')).toEqual([]);
    expect(commands(r.log, 'push')).toEqual([]);
    // The tests run in the app image: it comes to the runner for them, by its digest.
    expect(commands(r.log, 'pull')).toEqual([
      expect.stringMatching(new RegExp(`docker pull ${sb.REGISTRY}/todobackend:${tag}@${digest}$`)),
    ]);
    expect(r.outputs).toMatchObject({
      image: `${sb.REGISTRY}/todobackend:${tag}`,
      tag,
      digest,
      registry: sb.REGISTRY,
      stack: STACK,
      migrate: 'complete',
      'tests-passed-count': '7',
      'tests-failed-count': '0',
    });
    expect(await appImage()).toBe(`${sb.REGISTRY}/todobackend:${tag}@${digest}`);
    expect(r.summary).toContain('| Find image in ECR | ✅ ok |');
    expect(r.summary).not.toContain('Build and push');
    expectTidy(r);
  });

  test("2. a digest alone takes the commit's tag; without tests the image never comes to the runner", async () => {
    const sha = randomSha();
    const digest = buildAndPushOutside(short(sha));
    const r = await run({
      inputs: stepInputs({ image: `${sb.REGISTRY}/todobackend@${digest}`, acceptance: 'false' }),
      sha,
    });
    expect(r.exitCode).toBe(0);
    expect(commands(r.log, 'pull')).toEqual([]);
    expect(commands(r.log, 'build')).toEqual([]);
    expect(r.outputs).toMatchObject({ tag: short(sha), digest, migrate: 'complete' });
    expect(await appImage()).toBe(`${sb.REGISTRY}/todobackend:${short(sha)}@${digest}`);
    expectTidy(r);
  });

  test('3. a digest that is not in the registry, or a tag that is not: one error naming image, nothing deployed', async () => {
    const tag = `outside-${short(randomSha())}`;
    buildAndPushOutside(tag);
    const before = await appVersion();
    const wrong = randomDigest();
    const r = await run({ inputs: stepInputs({ image: `${sb.REGISTRY}/todobackend:${tag}@${wrong}` }) });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      `::error::image: todobackend:${tag} in ECR is another image than ${wrong}: the tag was moved to another build, or the digest is of another image`,
    );
    const missing = await run({
      inputs: stepInputs({ image: `${sb.REGISTRY}/todobackend:never-pushed@${wrong}` }),
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.log).toContain(
      `::error::image: no image todobackend:never-pushed@${wrong} in ECR: push it before this step, or correct the reference`,
    );
    for (const failed of [r, missing]) {
      expect(failed.log).not.toContain('Stack deploy');
      expect(commands(failed.log, 'pull')).toEqual([]);
      expectTidy(failed);
    }
    expect(await appVersion()).toBe(before);
  });
});

describe('registry-id: a registry in another account', () => {
  test("4. the second account's registry is logged in to and deployed from; an image of another registry is refused", async () => {
    const tag = `tools-${short(randomSha())}`;
    const digest = buildAndPushOutside(tag);
    const r = await run({
      inputs: stepInputs({
        'registry-id': TOOLS_ACCOUNT,
        image: `${TOOLS_REGISTRY}/todobackend:${tag}@${digest}`,
      }),
    });
    expect(r.exitCode).toBe(0);
    expect(r.log).toContain(`Logged in to ${TOOLS_REGISTRY}`);
    expect(r.outputs).toMatchObject({
      registry: TOOLS_REGISTRY,
      image: `${TOOLS_REGISTRY}/todobackend:${tag}`,
      digest,
      migrate: 'complete',
      'tests-passed-count': '7',
    });
    // The swarm pulled it from that registry, with the credentials the run forwarded for it.
    expect(await appImage()).toBe(`${TOOLS_REGISTRY}/todobackend:${tag}@${digest}`);
    expectTidy(r);

    const before = await appVersion();
    const other = await run({
      inputs: stepInputs({
        'registry-id': TOOLS_ACCOUNT,
        image: `${sb.REGISTRY}/todobackend:${tag}@${digest}`,
      }),
    });
    expect(other.exitCode).toBe(1);
    expect(other.log).toContain(
      `::error::image: ${sb.REGISTRY} is not the registry this run logs in to (${TOOLS_REGISTRY}): push the image there, or set registry-id (and aws-region) to the account (and region) of ${sb.REGISTRY}`,
    );
    expect(await appVersion()).toBe(before);
    expectTidy(other);
  });

  test('5. a registry id ECR does not know fails at login, naming registry-id; nothing built or deployed', async () => {
    const before = await appVersion();
    const r = await run({
      inputs: stackInputs(STACK, PORT)({ 'registry-id': UNKNOWN_ACCOUNT }),
      sha: randomSha(),
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      new RegExp(
        `::error::ECR GetAuthorizationToken failed: AccessDeniedException: .*${UNKNOWN_ACCOUNT}.* \\(registry-id ${UNKNOWN_ACCOUNT}: is it the account that owns the registry, and does that registry let this role in\\?\\)`,
      ),
    );
    expect(commands(r.log, 'build')).toEqual([]);
    expect(r.log).not.toContain('Stack deploy');
    expect(await appVersion()).toBe(before);
    expectTidy(r);
  });
});
