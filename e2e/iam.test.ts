// The documented IAM policies are exactly enough: every scenario runs with its mode's policy
// (docs/iam/MODE.json, enforced by the sandbox's ECR emulator and its registry proxy), and here a policy
// that lacks one action makes a run fail, naming that action, before anything is deployed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  type RunResult,
  engine,
  expectTidy,
  stackInputs,
  randomSha,
  registryTags,
  removeStack,
  repoRoot,
  run,
  sb,
  service,
  setUp,
} from './helpers.js';
// @ts-expect-error plain JS module shared with the ECR emulator
import { OVERRIDE_CREDENTIALS } from './credentials.mjs';

jest.setTimeout(240_000);

const STACK = 'iam';
const PORT = 8650;
const short = (sha: string) => sha.slice(0, 7);

const stepInputs = stackInputs(STACK, PORT);

interface Policy {
  Version: string;
  Statement: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[] }[];
}

/**
 * The emulator's override key runs with this policy: mode's documented one less `action`. The
 * emulator reads the file at each request the key makes.
 */
function policyWithout(mode: string, action: string): void {
  const policy = JSON.parse(fs.readFileSync(path.join(repoRoot, `docs/iam/${mode}.json`), 'utf8')) as Policy;
  let removed = 0;
  for (const statement of policy.Statement) {
    const actions = [statement.Action].flat();
    statement.Action = actions.filter((a) => a !== action);
    removed += actions.length - statement.Action.length;
  }
  policy.Statement = policy.Statement.filter((s) => s.Action.length > 0);
  if (removed === 0) throw new Error(`set-up: docs/iam/${mode}.json does not grant ${action}`);
  fs.writeFileSync(sb.ECR_OVERRIDE_POLICY_FILE, JSON.stringify(policy, null, 2));
}

const overrideCredentials = {
  AWS_ACCESS_KEY_ID: OVERRIDE_CREDENTIALS.accessKeyId as string,
  AWS_SECRET_ACCESS_KEY: OVERRIDE_CREDENTIALS.secretAccessKey as string,
};

/** The sandbox ECR emulator's log (its refusals among it). */
const ecrLog = () => fs.readFileSync(path.join(sb.SANDBOX_DIR, 'ecr/ecr.log'), 'utf8');

const stackServices = () =>
  engine<unknown[]>(
    `/services?filters=${encodeURIComponent(JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] }))}`,
  );

beforeAll(async () => {
  await removeStack(STACK);
});

afterEach(() => {
  fs.rmSync(sb.ECR_OVERRIDE_POLICY_FILE, { force: true });
});

afterAll(async () => {
  await removeStack(STACK);
});

describe('a policy that lacks an action the mode needs fails the run, naming the action', () => {
  test('1. deploy without ecr:CompleteLayerUpload: the registry refuses the push, the log names the action, nothing is deployed', async () => {
    policyWithout('deploy', 'ecr:CompleteLayerUpload');
    const logFrom = ecrLog().length;
    const sha = randomSha();
    const r: RunResult = await run({ inputs: stepInputs(), sha, env: overrideCredentials });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /not authorized to perform: ecr:CompleteLayerUpload on resource: arn:aws:ecr:[a-z0-9-]+:123456789012:repository\/todobackend/,
    );
    // The registry proxy refused it (the API calls before it were allowed).
    expect(ecrLog().slice(logFrom)).toMatch(
      /registry PUT \/v2\/todobackend\/blobs\/uploads\/\S+ denied: User: arn:aws:sts::123456789012:assumed-role\/sandbox-override\/e2e is not authorized to perform: ecr:CompleteLayerUpload on resource: arn:aws:ecr:us-east-1:123456789012:repository\/todobackend because no identity-based policy allows the ecr:CompleteLayerUpload action/,
    );
    expect(r.log).not.toContain(' stack deploy ');
    expect(await stackServices()).toEqual([]);
    expect(await registryTags('todobackend')).not.toContain(short(sha));
    expectTidy(r);
  });

  test('2. promote without ecr:BatchGetImage: ECR refuses the API call, the log names the action, no tag moves and the stack is left as it was', async () => {
    // Set-up: the commit deployed (and recorded as passed) on this file's own port.
    const sha = randomSha();
    setUp(`the deploy of ${sha}`, await run({ inputs: stepInputs(), sha }));
    const before = await service(`${STACK}_app`);
    policyWithout('promote', 'ecr:BatchGetImage');
    const r = await run({
      inputs: stepInputs({ mode: 'promote' }),
      sha,
      env: { ...overrideCredentials, GITHUB_REF: 'refs/tags/v9.8.7' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /User: arn:aws:sts::123456789012:assumed-role\/sandbox-override\/e2e is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:123456789012:repository\/todobackend because no identity-based policy allows the ecr:BatchGetImage action/,
    );
    expect(await registryTags('todobackend')).not.toContain('v9.8.7');
    const after = await service(`${STACK}_app`);
    expect(after.Version.Index).toBe(before.Version.Index);
    expectTidy(r);
  });
});
