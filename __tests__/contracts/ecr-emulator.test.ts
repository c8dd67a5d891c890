// The ECR emulator (e2e/ecr-emulator.mjs) held to Amazon ECR's published API description: every
// request the action's own code sends (src/registry/ecr.ts through @aws-sdk/client-ecr) and every
// answer of the emulator, success or error, is checked on the wire against the model's shapes and
// each operation's modelled errors. The emulator runs as the sandbox runs it, in front of an in-memory
// registry; a recording proxy between the SDK and the emulator sees each exchange.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ListImagesCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
} from '@aws-sdk/client-ecr';
import { ECR_MODEL, checkShape, operationErrors } from '../helpers/aws-model.js';
import { recordingProxy, type Crossed } from '../helpers/recording-proxy.js';
import { RegistryStub } from '../helpers/registry-stub.js';
// @ts-expect-error plain JS module shared with the ECR emulator
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from '../../e2e/credentials.mjs';

jest.unstable_mockModule('@actions/core', () => ({ setSecret: jest.fn(), info: jest.fn() }));

const EMULATOR = new URL('../../e2e/ecr-emulator.mjs', import.meta.url);
const OWN_ACCOUNT = '123456789012';
const TOOLS_ACCOUNT = '210987654321';
const STRANGER_ACCOUNT = '999999999999';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const manifest = (n: number, mediaType = DOCKER_V2) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { digest: `sha256:${String(n).padStart(64, '0')}` },
  });

/**
 * Errors any AWS JSON service answers whatever the operation, which the model does not list per
 * operation: a refusal by IAM, a bad signature, an operation the endpoint does not know.
 */
const COMMON_ERRORS: Record<string, 'client' | 'server'> = {
  AccessDeniedException: 'client',
  InvalidSignatureException: 'client',
  UnknownOperationException: 'client',
};

/** The operations the emulator serves: the keys of its `operations` object. */
const SERVED = (() => {
  const source = fs.readFileSync(EMULATOR, 'utf8');
  const block = /^const operations = \{\n([\s\S]*?)^\};$/m.exec(source);
  if (!block) throw new Error('no `const operations = {` in the emulator');
  return [...block[1].matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]);
})();

interface Exchange {
  operation: string;
  request: unknown;
  status: number;
  contentType?: string;
  response: unknown;
}

const registry = new RegistryStub();
const exchanges: Exchange[] = [];
let emulator: ChildProcess;
let proxy: http.Server;
let endpoint: string;
let checks = 0;

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Every exchange with the emulator, recorded as it crossed the proxy. */
const recordExchange = ({ req, body, status, headers, text }: Crossed) =>
  exchanges.push({
    operation: String(req.headers['x-amz-target'] ?? '').replace(`${ECR_MODEL.metadata.targetPrefix}.`, ''),
    request: body.length ? JSON.parse(body.toString('utf8')) : {},
    status,
    contentType: headers['content-type'],
    response: JSON.parse(text),
  });

/** Where an exchange differs from the model: its request, its answer, the error's code and fault. */
function problemsOf(x: Exchange): string[] {
  const op = ECR_MODEL.operations[x.operation];
  const at = `${x.operation} ${JSON.stringify(x.request)}`;
  if (!op) return [`${at}: no such operation in the model`];
  const problems = checkShape(ECR_MODEL, op.input ?? { type: 'structure' }, x.request, 'request').map(
    (p) => `${at}: ${p}`,
  );
  checks++;
  if (x.contentType !== `application/x-amz-json-${ECR_MODEL.metadata.jsonVersion}`)
    problems.push(`${at}: answered content-type ${x.contentType}`);
  if (x.status === 200) {
    checks++;
    return [
      ...problems,
      ...checkShape(ECR_MODEL, op.output ?? { type: 'structure' }, x.response, 'answer').map(
        (p) => `${at}: ${p}`,
      ),
    ];
  }
  checks++;
  const body = x.response as Record<string, unknown>;
  const code = String(body.__type).replace(/^.*#/, '');
  const modelled = operationErrors(x.operation).find((e) => e.code === code)?.fault ?? COMMON_ERRORS[code];
  if (!modelled) problems.push(`${at}: error ${code} is not among the operation's modelled errors`);
  else if ((modelled === 'server') !== x.status >= 500)
    problems.push(`${at}: ${code} is a ${modelled} fault but came with HTTP ${x.status}`);
  const extra = Object.keys(body).filter((k) => k !== '__type' && k !== 'message');
  if (extra.length > 0 || typeof body.message !== 'string')
    problems.push(`${at}: an error is {__type, message}, got ${JSON.stringify(body)}`);
  return problems;
}

const client = (secretAccessKey = SANDBOX_SECRET_ACCESS_KEY) =>
  new ECRClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey },
    maxAttempts: 1,
  });

/** Sends a command the way the e2e tests and a user's setup do; returns the error's name, if any. */
async function send(command: object, secret?: string): Promise<string | undefined> {
  const c = client(secret);
  try {
    await c.send(command as Parameters<ECRClient['send']>[0]);
    return undefined;
  } catch (e) {
    return (e as Error).name;
  } finally {
    c.destroy();
  }
}

let ecr: typeof import('../../src/registry/ecr.js');
const digests: Record<string, string> = {};

beforeAll(async () => {
  const host = await registry.start();
  digests.release = registry.push('todobackend', 'abc1234', manifest(1), DOCKER_V2);
  registry.push('todobackend', 'v1.0.0', manifest(2), DOCKER_V2);
  registry.push('todobackend', 'multi', manifest(3, OCI_INDEX), OCI_INDEX);
  digests.pr = registry.push('todobackend', 'pr-42-abc', manifest(4), DOCKER_V2);
  registry.push('todobackend', 'pr-42-def', manifest(5), DOCKER_V2);
  registry.push('todobackend', 'keep-4', manifest(4), DOCKER_V2);
  registry.push('notes', 'x', manifest(6), DOCKER_V2);

  const port = await freePort();
  emulator = spawn(process.execPath, [fileURLToPath(EMULATOR)], {
    env: {
      ...process.env,
      ECR_EMULATOR_PORT: String(port),
      ECR_EMULATOR_REGISTRY: host,
      ECR_EMULATOR_PASSWORD: 'registry-password',
      ECR_EMULATOR_REPOSITORIES: 'todobackend',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    emulator.once('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
    emulator.stdout!.once('data', resolve);
  });
  emulator.stdout!.resume();
  proxy = recordingProxy({ host: '127.0.0.1', port }, recordExchange);
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ECR: endpoint,
    AWS_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SANDBOX_SECRET_ACCESS_KEY,
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  ecr = await import('../../src/registry/ecr.js');
});

afterAll(async () => {
  emulator?.kill();
  await new Promise<void>((r) => proxy?.close(() => r()));
  await registry.stop();
});

/** The exchanges a step made, each checked against the model. */
async function conforming(step: () => Promise<unknown>): Promise<Exchange[]> {
  const from = exchanges.length;
  await step().catch(() => undefined);
  const made = exchanges.slice(from);
  expect(made.length).toBeGreaterThan(0);
  expect(made.flatMap(problemsOf)).toEqual([]);
  return made;
}

const answers = (made: Exchange[]) => made.map((x) => [x.operation, x.status]);
const failureCodes = (made: Exchange[]) =>
  made.flatMap((x) =>
    ((x.response as { failures?: { failureCode: string }[] }).failures ?? []).map((f) => f.failureCode),
  );

describe("the action's requests and the emulator's answers", () => {
  test("GetAuthorizationToken: the caller's registry, a registry-id, a registry that refuses", async () => {
    let made = await conforming(() => ecr.getRegistryAuth({ awsRegion: 'us-east-1' }));
    expect(answers(made)).toEqual([['GetAuthorizationToken', 200]]);
    made = await conforming(() => ecr.getRegistryAuth({ registryId: TOOLS_ACCOUNT }));
    expect(made[0].request).toEqual({ registryIds: [TOOLS_ACCOUNT] });
    made = await conforming(() => ecr.getRegistryAuth({ registryId: STRANGER_ACCOUNT }));
    expect(made.map((x) => (x.response as { __type: string }).__type)).toEqual(['AccessDeniedException']);
  });

  test('DescribeRepositories: one that exists, one that does not', async () => {
    const made = await conforming(() => ecr.checkRepositories({}, ['todobackend', 'nothere'], 'r'));
    expect(answers(made)).toEqual([
      ['DescribeRepositories', 200],
      ['DescribeRepositories', 400],
    ]);
    expect((made[1].response as { __type: string }).__type).toBe('RepositoryNotFoundException');
  });

  test('BatchGetImage (findImage): found, tag and digest that disagree, not found', async () => {
    let made = await conforming(() =>
      ecr.findImage(
        {},
        { registry: 'r', repository: 'todobackend', tag: 'abc1234', digest: digests.release },
      ),
    );
    expect((made[0].response as { images: unknown[] }).images).toHaveLength(1);
    made = await conforming(() =>
      ecr.findImage({}, { registry: 'r', repository: 'todobackend', tag: 'v1.0.0', digest: digests.release }),
    );
    expect(failureCodes(made)).toEqual(['ImageTagDoesNotMatchDigest']);
    made = await conforming(() =>
      ecr.findImage({ registryId: OWN_ACCOUNT }, { registry: 'r', repository: 'todobackend', tag: 'never' }),
    );
    expect(failureCodes(made)).toEqual(['ImageNotFound']);
  });

  test('BatchGetImage and PutImage (promoteImages, recordDeploy, deployRecords)', async () => {
    let made = await conforming(() =>
      ecr.promoteImages({}, ['todobackend'], 'abc1234', ['v1.2.3', 'latest'], 'abc1234'),
    );
    expect(answers(made)).toEqual([
      ['BatchGetImage', 200],
      ['PutImage', 200],
      ['PutImage', 200],
    ]);
    made = await conforming(() =>
      ecr.recordDeploy({}, [{ repository: 'todobackend', digest: digests.release }], 'passed-abc1234'),
    );
    expect(answers(made)).toEqual([
      ['BatchGetImage', 200],
      ['PutImage', 200],
    ]);
    made = await conforming(() => ecr.deployRecords({}, ['todobackend'], 'abc1234'));
    expect(failureCodes(made)).toContain('ImageNotFound');
    await expect(ecr.deployRecords({}, ['todobackend'], 'abc1234')).resolves.toEqual([
      { repository: 'todobackend', digest: digests.release, passed: true, failed: undefined },
    ]);
  });

  test('ListImages and BatchDeleteImage (deleteImagesTagged)', async () => {
    const made = await conforming(() => ecr.deleteImagesTagged({}, 'todobackend', 'pr-42-'));
    expect(answers(made)).toEqual([
      ['ListImages', 200],
      ['BatchDeleteImage', 200],
    ]);
    expect([...registry.tags.get('todobackend')!.keys()]).toContain('keep-4');
  });
});

describe("the emulator's other answers, to what the e2e tests send", () => {
  test('CreateRepository (and again: RepositoryAlreadyExistsException) and PutImageTagMutability', async () => {
    const names: (string | undefined)[] = [];
    const made = await conforming(async () => {
      names.push(await send(new CreateRepositoryCommand({ repositoryName: 'fresh' })));
      names.push(await send(new CreateRepositoryCommand({ repositoryName: 'fresh' })));
      names.push(await send(new CreateRepositoryCommand({ repositoryName: 'notes' })));
      await send(
        new PutImageTagMutabilityCommand({ repositoryName: 'fresh', imageTagMutability: 'IMMUTABLE' }),
      );
      await send(
        new PutImageTagMutabilityCommand({ repositoryName: 'fresh', imageTagMutability: 'MUTABLE' }),
      );
    });
    expect(names).toEqual([
      undefined,
      'RepositoryAlreadyExistsException',
      'RepositoryAlreadyExistsException',
    ]);
    expect(answers(made)).toEqual([
      ['CreateRepository', 200],
      ['CreateRepository', 400],
      ['CreateRepository', 400],
      ['PutImageTagMutability', 200],
      ['PutImageTagMutability', 200],
    ]);
  });

  test('PutImage: ImageTagAlreadyExistsException, ImageAlreadyExistsException, ImageDigestDoesNotMatchException', async () => {
    const put = (tag: string, body: string, imageDigest?: string) =>
      send(new PutImageCommand({ repositoryName: 'notes', imageTag: tag, imageManifest: body, imageDigest }));
    const mutability = (imageTagMutability: 'MUTABLE' | 'IMMUTABLE') =>
      send(new PutImageTagMutabilityCommand({ repositoryName: 'notes', imageTagMutability }));
    const names: (string | undefined)[] = [];
    const made = await conforming(async () => {
      await mutability('IMMUTABLE');
      names.push(await put('x', manifest(7)));
      await mutability('MUTABLE');
      names.push(await put('x', manifest(6)));
      names.push(await put('y', manifest(8), digests.release));
    });
    expect(names).toEqual([
      'ImageTagAlreadyExistsException',
      'ImageAlreadyExistsException',
      'ImageDigestDoesNotMatchException',
    ]);
    expect(made).toHaveLength(5);
    // Refused, so not stored.
    expect(registry.tags.get('notes')?.has('y')).toBe(false);
  });

  test('BatchGetImage of another account, a media type not accepted; BatchDeleteImage of a tag not there', async () => {
    const names: (string | undefined)[] = [];
    const made = await conforming(async () => {
      const imageIds = [{ imageTag: 'x' }];
      names.push(
        await send(
          new BatchGetImageCommand({ registryId: STRANGER_ACCOUNT, repositoryName: 'notes', imageIds }),
        ),
      );
      const multi = { repositoryName: 'todobackend', imageIds: [{ imageTag: 'multi' }] };
      await send(new BatchGetImageCommand({ ...multi, acceptedMediaTypes: [DOCKER_V2] }));
      await send(new BatchDeleteImageCommand({ repositoryName: 'notes', imageIds: [{ imageTag: 'gone' }] }));
    });
    expect(names).toEqual(['RepositoryNotFoundException']);
    expect(failureCodes(made)).toEqual(['ImageNotFound', 'ImageNotFound']);
  });

  test('a repository that does not exist: every image call answers RepositoryNotFoundException', async () => {
    const repositoryName = 'never-created';
    const imageIds = [{ imageTag: 'x' }];
    const names: (string | undefined)[] = [];
    const made = await conforming(async () => {
      names.push(await send(new BatchGetImageCommand({ repositoryName, imageIds })));
      names.push(
        await send(new PutImageCommand({ repositoryName, imageTag: 'x', imageManifest: manifest(9) })),
      );
      names.push(await send(new ListImagesCommand({ repositoryName })));
      names.push(await send(new BatchDeleteImageCommand({ repositoryName, imageIds })));
      names.push(
        await send(new PutImageTagMutabilityCommand({ repositoryName, imageTagMutability: 'MUTABLE' })),
      );
    });
    expect(names).toEqual(Array(5).fill('RepositoryNotFoundException'));
    expect(made.map((x) => x.status)).toEqual(Array(5).fill(400));
    expect(registry.tags.has(repositoryName)).toBe(false);
  });

  test('a registry that cannot delete: ServerException, a server fault', async () => {
    registry.deleteDisabled = true;
    try {
      const made = await conforming(() =>
        send(new BatchDeleteImageCommand({ repositoryName: 'notes', imageIds: [{ imageTag: 'x' }] })),
      );
      expect((made[0].response as { __type: string }).__type).toBe('ServerException');
    } finally {
      registry.deleteDisabled = false;
    }
  });

  test('a bad signature, an operation the emulator does not serve', async () => {
    const names: (string | undefined)[] = [];
    await conforming(async () => {
      names.push(await send(new GetAuthorizationTokenCommand({}), 'not-the-secret'));
      names.push(await send(new DescribeImagesCommand({ repositoryName: 'todobackend' })));
    });
    expect(names).toEqual(['InvalidSignatureException', 'UnknownOperationException']);
  });
});

describe('coverage', () => {
  test('every operation the emulator serves is in the model and was answered with success', () => {
    expect(SERVED.length).toBeGreaterThan(0);
    for (const op of SERVED) expect([op, op in ECR_MODEL.operations]).toEqual([op, true]);
    const answered = new Set(exchanges.filter((x) => x.status === 200).map((x) => x.operation));
    expect(SERVED.filter((op) => !answered.has(op))).toEqual([]);
    expect(checks).toBeGreaterThan(40);
  });
});
