// The image deployed is exactly the one pushed: every service spec names its digest, and a registry
// that stops answering between the push and the deploy fails the run fast, leaving the swarm as it was.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parse, stringify } from 'yaml';
import {
  type Deployed,
  expectTidy,
  stackInputs,
  noteDeployed,
  randomSha,
  removeStack,
  manager,
  repoRoot,
  run,
  sb,
  service,
} from './helpers.js';

jest.setTimeout(240_000);

const STACK = 'pinned';
const PORT = 8600;
/** How long the action gives ECR to say it holds the image (src/registry/ecr.ts). */
const CHECK_TIMEOUT_S = 30;
const SERVICES = ['app', 'db', 'migrate'];

const stepInputs = stackInputs(STACK, PORT);

const registryPid = () => Number(fs.readFileSync(path.join(sb.SANDBOX_DIR, 'registry/pid'), 'utf8').trim());

async function registryAnswers(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${sb.REGISTRY}/v2/`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the sandbox registry does not answer');
}

let deployed: Deployed | undefined;

beforeAll(async () => {
  await removeStack(STACK);
});

afterAll(async () => {
  await removeStack(STACK);
});

describe('the digest pushed is the digest deployed', () => {
  test('1. a deploy: every service spec of the stack names the pushed digest, and the CLI does not ask the registry', async () => {
    const sha = randomSha();
    const r = await run({ inputs: stepInputs(), sha });
    expect(r.exitCode).toBe(0);
    deployed = noteDeployed(STACK, sha, r);
    const pinned = `${r.outputs.image}@${r.outputs.digest}`;
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const name of SERVICES)
      expect((await service(`${STACK}_${name}`)).Spec.TaskTemplate.ContainerSpec.Image).toBe(pinned);
    expect(r.log).toMatch(
      /^\[command\]\S*docker --config \S+ --host \S+ stack deploy --with-registry-auth --resolve-image never /m,
    );
    expect(r.summary).toContain('| Find image in ECR | ✅ ok |');
    // The services table shows the start of the digest each service runs.
    expect(r.summary).toContain(
      `| ${STACK}_app | Replicated | 1/1 | \`${pinned.slice(0, pinned.length - 52)}\` |`,
    );
    expectTidy(r);
  });

  test('2. the registry frozen between the push and the deploy: fails within the check timeout naming registry, repository and digest; the swarm is unchanged', async () => {
    if (!deployed) throw new Error('set-up: scenario 1 deploys the version this one must leave running');
    const before = await service(`${STACK}_app`);
    const pid = registryPid();
    let frozenAt: number | undefined;
    // Output arrives in chunks that may split a line: the pieces joined are searched.
    let output = '';
    try {
      const r = await run({
        // No cache tag: the image's own push is the last thing the run sends the registry.
        inputs: stepInputs({ cache: 'false' }),
        sha: randomSha(),
        onLine: (text) => {
          output += text;
          if (frozenAt === undefined && /: digest: sha256:[0-9a-f]{64} size: \d+/.test(output)) {
            process.kill(pid, 'SIGSTOP');
            frozenAt = Date.now();
          }
        },
      });
      expect(frozenAt).toBeDefined();
      expect(r.exitCode).toBe(1);
      const digest = r.outputs.digest;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(r.log).toContain(
        `::error::the registry ${sb.REGISTRY} did not answer within ${CHECK_TIMEOUT_S} s whether it holds todobackend:${r.outputs.tag}@${digest} (ECR BatchGetImage)`,
      );
      // From the freeze to the end of the run: the check's timeout and little more (docker stack deploy
      // would have spent about 75 s per service, then deployed by tag).
      const ratio = (r.startedAt + r.mainSeconds * 1000 - frozenAt!) / 1000 / CHECK_TIMEOUT_S;
      console.log(
        `registry frozen: the run ended ${ratio.toFixed(2)} × the check's timeout after the freeze`,
      );
      expect(ratio).toBeGreaterThan(0.9);
      expect(ratio).toBeLessThan(1.5);
      expect(r.log).not.toContain('Deploy lock');
      expect(r.log).not.toContain(' stack deploy ');
      const after = await service(`${STACK}_app`);
      expect(after.Version.Index).toBe(before.Version.Index);
      expect(after.Spec.TaskTemplate.ContainerSpec.Image).toBe(`${deployed.image}@${deployed.digest}`);
      expectTidy(r);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await registryAnswers();
  });

  test('3. a node that cannot pull an image: the rejected task is said to be a pull failure on that node, by its hostname', async () => {
    // migrate names, by a digest, an image the registry does not have; Swarm rejects its task.
    const doc = parse(fs.readFileSync(path.join(repoRoot, 'e2e/fixture/stack.yml'), 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const missing = `\${ECR_REGISTRY}/todobackend@sha256:${randomSha()}${randomSha().slice(0, 24)}`;
    doc.services.migrate.image = missing;
    doc.services.migrate.deploy = { restart_policy: { condition: 'none' } };
    const hostname = manager(['node', 'ls', '--format', '{{.Hostname}}']).trim();
    const r = await run({ inputs: stepInputs(), files: { 'stack.yml': stringify(doc) }, sha: randomSha() });
    expect(r.exitCode).toBe(1);
    expect(r.log).toContain(
      `::error::${STACK}_migrate failed after 1 run (restart_policy condition: none): rejected: node ${hostname} could not pull the image: No such image: ${missing.replace('${ECR_REGISTRY}', sb.REGISTRY)}`,
    );
    expectTidy(r);
  });
});
