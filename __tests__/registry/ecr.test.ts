import { describe, expect, jest, test } from '@jest/globals';

interface Sent {
  op: string;
  input: Record<string, unknown>;
}
const send = jest.fn<(command: Sent, options?: { abortSignal?: AbortSignal }) => Promise<unknown>>();
/** A mocked SDK command that remembers which operation it is and its input. */
const command = (op: string) => jest.fn().mockImplementation((input) => ({ op, input }));
jest.unstable_mockModule('@aws-sdk/client-ecr', () => ({
  ECRClient: jest.fn().mockImplementation(() => ({ send, destroy: () => undefined })),
  GetAuthorizationTokenCommand: command('GetAuthorizationToken'),
  BatchGetImageCommand: command('BatchGetImage'),
  PutImageCommand: command('PutImage'),
  ListImagesCommand: command('ListImages'),
  BatchDeleteImageCommand: command('BatchDeleteImage'),
  DescribeRepositoriesCommand: command('DescribeRepositories'),
}));
const setSecret = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ setSecret, info: jest.fn() }));

const {
  checkRepositories,
  decodeAuthorization,
  getRegistryAuth,
  promoteImages,
  deleteImagesTagged,
  deployRecords,
  recordDeploy,
  findImage,
  MANIFEST_TYPES,
  REGISTRY_TIMEOUT_MS,
} = await import('../../src/registry/ecr.js');

const token = Buffer.from('AWS:s3cr3t:with:colons').toString('base64');

describe('decodeAuthorization', () => {
  test('splits AWS:password at the first colon; the registry is the endpoint without its scheme', () => {
    expect(decodeAuthorization(token, 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/')).toEqual({
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      endpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
      username: 'AWS',
      password: 's3cr3t:with:colons',
    });
  });
  test('keeps a plain http endpoint as it is', () => {
    expect(decodeAuthorization(token, 'http://127.0.0.1:5000').endpoint).toBe('http://127.0.0.1:5000');
  });
  test.each([
    [Buffer.from('nocolon').toString('base64'), 'https://r', /not user:password/],
    [Buffer.from('AWS:').toString('base64'), 'https://r', /not user:password/],
    [token, 'https://', /no proxy endpoint/],
  ])('rejects %s / %s', (t, endpoint, message) => {
    expect(() => decodeAuthorization(t, endpoint)).toThrow(message);
  });
});

describe('getRegistryAuth', () => {
  test('masks the password and the token', async () => {
    const expiresAt = new Date('2026-01-01T12:00:00Z');
    send.mockResolvedValueOnce({
      authorizationData: [{ authorizationToken: token, proxyEndpoint: 'https://r.example', expiresAt }],
    });
    const auth = await getRegistryAuth({ awsRegion: 'us-east-1' });
    expect(auth).toEqual({
      registry: 'r.example',
      endpoint: 'https://r.example',
      username: 'AWS',
      password: 's3cr3t:with:colons',
      expiresAt,
    });
    expect(setSecret).toHaveBeenCalledWith('s3cr3t:with:colons');
    expect(setSecret).toHaveBeenCalledWith(token);
  });

  test('missing credentials: says to configure them', async () => {
    send.mockRejectedValueOnce(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    await expect(getRegistryAuth({})).rejects.toThrow(/configure-aws-credentials/);
  });

  test('missing region: names the input', async () => {
    send.mockRejectedValueOnce(new Error('Region is missing'));
    await expect(getRegistryAuth({})).rejects.toThrow(/set aws-region/);
  });

  test('no authorization data', async () => {
    send.mockResolvedValueOnce({ authorizationData: [] });
    await expect(getRegistryAuth({})).rejects.toThrow(/no authorization data/);
  });
});

describe('promoteImages', () => {
  const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
  const manifest = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}';
  const image = (tag: string, digest: string) => ({
    imageId: { imageTag: tag, imageDigest: digest },
    imageManifest: manifest,
    imageManifestMediaType: OCI_INDEX,
  });
  const sentOps = () => send.mock.calls.map(([c]) => c.op);

  test('reads the manifest once (all manifest types accepted) and puts the same bytes under each new tag', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [image('abc1234', 'sha256:aa'), image('latest', 'sha256:aa')] });
    send.mockResolvedValueOnce({ image: { imageId: { imageTag: 'v1.2.3', imageDigest: 'sha256:aa' } } });
    const digests = await promoteImages(
      { awsRegion: 'us-east-1' },
      ['todo'],
      'abc1234',
      ['v1.2.3', 'latest'],
      'abc1234ff',
    );
    expect(digests).toEqual(['sha256:aa']);
    expect(sentOps()).toEqual(['BatchGetImage', 'PutImage']); // latest already names the image
    expect(send.mock.calls[0][0].input).toEqual({
      repositoryName: 'todo',
      imageIds: [{ imageTag: 'abc1234' }, { imageTag: 'v1.2.3' }, { imageTag: 'latest' }],
      acceptedMediaTypes: MANIFEST_TYPES,
    });
    expect(send.mock.calls[1][0].input).toEqual({
      repositoryName: 'todo',
      imageManifest: manifest,
      imageManifestMediaType: OCI_INDEX,
      imageTag: 'v1.2.3',
      imageDigest: 'sha256:aa',
    });
  });

  test('no image for the commit: names the commit, puts nothing', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [], failures: [{ failureCode: 'ImageNotFound' }] });
    await expect(promoteImages({}, ['todo'], 'abc1234', ['v1'], 'abc1234ff')).rejects.toThrow(
      'no image todo:abc1234 in ECR for commit abc1234ff',
    );
    expect(sentOps()).toEqual(['BatchGetImage']);
  });

  test('several images: all or none; one missing moves no tag of the others', async () => {
    send.mockReset();
    send.mockImplementation(async (c) =>
      c.input.repositoryName === 'todo'
        ? { images: [image('abc1234', 'sha256:aa')] }
        : { images: [], failures: [{ failureCode: 'ImageNotFound' }] },
    );
    await expect(promoteImages({}, ['todo', 'todo-proxy'], 'abc1234', ['v1'], 'abc1234ff')).rejects.toThrow(
      'no image todo-proxy:abc1234 in ECR for commit abc1234ff: the deploy of that commit pushes it; promote only releases images that were built and tested, and no tag was moved',
    );
    expect(sentOps()).toEqual(['BatchGetImage', 'BatchGetImage']);
    send.mockReset();
  });

  test('an immutable tag on another image: a clear refusal naming both', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [image('abc1234', 'sha256:aa'), image('v1', 'sha256:bb')] });
    send.mockRejectedValueOnce(
      Object.assign(new Error('tag exists'), { name: 'ImageTagAlreadyExistsException' }),
    );
    await expect(promoteImages({}, ['todo'], 'abc1234', ['v1'], 'abc1234ff')).rejects.toThrow(
      "todo:v1 already exists as another image (sha256:bb) and the repository's tags are immutable",
    );
  });

  test('ECR storing another digest than the tested one is an error', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [image('abc1234', 'sha256:aa')] });
    send.mockResolvedValueOnce({ image: { imageId: { imageDigest: 'sha256:cc' } } });
    await expect(promoteImages({}, ['todo'], 'abc1234', ['v1'], 'abc1234ff')).rejects.toThrow(
      'ECR stored todo:v1 as sha256:cc, not the tested sha256:aa',
    );
  });
});

describe('deleteImagesTagged', () => {
  test('lists every page and deletes only the tags with the prefix', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({
      imageIds: [{ imageTag: 'pr-4-aaa' }, { imageTag: 'abc1234' }],
      nextToken: 't',
    });
    send.mockResolvedValueOnce({ imageIds: [{ imageTag: 'pr-42-bbb' }, { imageTag: 'pr-4-ccc' }] });
    send.mockResolvedValueOnce({ imageIds: [], failures: [] });
    expect(await deleteImagesTagged({}, 'todo', 'pr-4-')).toEqual(['pr-4-aaa', 'pr-4-ccc']);
    expect(send.mock.calls[1][0].input).toMatchObject({ nextToken: 't' });
    expect(send.mock.calls[2][0].input).toEqual({
      repositoryName: 'todo',
      imageIds: [{ imageTag: 'pr-4-aaa' }, { imageTag: 'pr-4-ccc' }],
    });
  });
});

describe('registry-id: every call names the registry of another account', () => {
  const tools = { awsRegion: 'us-east-1', registryId: '210987654321' };
  const inputs = () => send.mock.calls.map(([c]) => c.input);

  test('GetAuthorizationToken asks for that registry (its proxyEndpoint is the registry used)', async () => {
    send.mockReset();
    send.mockResolvedValue({
      authorizationData: [{ authorizationToken: token, proxyEndpoint: 'https://tools.example' }],
    });
    expect((await getRegistryAuth(tools)).registry).toBe('tools.example');
    await getRegistryAuth({ awsRegion: 'us-east-1' });
    expect(inputs()).toEqual([{ registryIds: ['210987654321'] }, {}]);
  });

  test('a refusal names registry-id', async () => {
    send.mockReset();
    send.mockRejectedValueOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(getRegistryAuth(tools)).rejects.toThrow(
      'ECR GetAuthorizationToken failed: AccessDeniedException: not authorized (registry-id 210987654321: is it the account that owns the registry, and does that registry let this role in?)',
    );
  });

  test('promotion reads and writes in that registry', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({
      images: [{ imageId: { imageTag: 'abc1234', imageDigest: 'sha256:aa' }, imageManifest: '{}' }],
    });
    send.mockResolvedValueOnce({ image: { imageId: { imageTag: 'v1', imageDigest: 'sha256:aa' } } });
    await promoteImages(tools, ['todo'], 'abc1234', ['v1'], 'abc1234ff');
    expect(inputs().map((i) => i.registryId)).toEqual(['210987654321', '210987654321']);
  });

  test('teardown lists and deletes in that registry', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ imageIds: [{ imageTag: 'pr-4-aaa' }] });
    send.mockResolvedValueOnce({ imageIds: [], failures: [] });
    await deleteImagesTagged(tools, 'todo', 'pr-4-');
    expect(inputs().map((i) => i.registryId)).toEqual(['210987654321', '210987654321']);
  });
});

describe('checkRepositories: ECR refuses a push to a repository that does not exist', () => {
  test('asks DescribeRepositories in the registry given; an existing one passes', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ repositories: [{ repositoryName: 'todo' }] });
    await checkRepositories({ registryId: '210987654321' }, ['todo'], 'r.example');
    expect(send.mock.calls[0][0]).toEqual({
      op: 'DescribeRepositories',
      input: { registryId: '210987654321', repositoryNames: ['todo'] },
    });
  });

  test('a missing one is refused, naming it, the registry and how to create it', async () => {
    send.mockReset();
    send.mockRejectedValueOnce(
      Object.assign(new Error('does not exist'), { name: 'RepositoryNotFoundException' }),
    );
    await expect(checkRepositories({}, ['todo'], 'r.example')).rejects.toThrow(
      'ecr-repository: no repository todo in r.example: create it (aws ecr create-repository --repository-name todo), or correct ecr-repository, registry-id or aws-region',
    );
  });

  test("every missing one at once: the stack's second image names its service's image:", async () => {
    send.mockReset();
    send.mockRejectedValue(
      Object.assign(new Error('does not exist'), { name: 'RepositoryNotFoundException' }),
    );
    const error = await checkRepositories({}, ['todo', 'todo-proxy'], 'r.example').catch((e: Error) => e);
    expect((error as Error).message.split('\n')).toEqual([
      'ecr-repository: no repository todo in r.example: create it (aws ecr create-repository --repository-name todo), or correct ecr-repository, registry-id or aws-region',
      "stack-file: no repository todo-proxy in r.example: create it (aws ecr create-repository --repository-name todo-proxy), or correct the service's image:, registry-id or aws-region",
    ]);
    send.mockReset();
  });

  test('a role not allowed to describe repositories is let through (the push will tell)', async () => {
    send.mockReset();
    send.mockRejectedValueOnce(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(checkRepositories({}, ['todo'], 'r.example')).resolves.toBeUndefined();
  });
});

describe('findImage', () => {
  const DIGEST = `sha256:${'ab'.repeat(32)}`;
  const found = { images: [{ imageId: { imageTag: 'v1', imageDigest: DIGEST }, imageManifest: '{}' }] };
  const R = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

  test('ECR has 30 s to answer: no answer names the registry, the repository and the digest', async () => {
    send.mockReset();
    expect(REGISTRY_TIMEOUT_MS).toBe(30_000);
    const timeout = jest.spyOn(AbortSignal, 'timeout');
    let signal: AbortSignal | undefined;
    send.mockImplementationOnce((_command, options?: { abortSignal?: AbortSignal }) => {
      signal = options?.abortSignal;
      return Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    });
    await expect(
      findImage({}, { registry: R, repository: 'todo', tag: 'v1', digest: DIGEST }),
    ).rejects.toThrow(
      `the registry ${R} did not answer within 30 s whether it holds todo:v1@${DIGEST} (ECR BatchGetImage): nothing was deployed; deploy again once it answers`,
    );
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(timeout).toHaveBeenCalledWith(REGISTRY_TIMEOUT_MS);
    timeout.mockRestore();
  });

  test('asks BatchGetImage (what a pull asks) for the tag and digest together, in the registry given', async () => {
    send.mockReset();
    send.mockResolvedValueOnce(found);
    expect(
      await findImage(
        { registryId: '210987654321' },
        { registry: R, repository: 'todo', tag: 'v1', digest: DIGEST },
      ),
    ).toBe(DIGEST);
    expect(send.mock.calls[0][0]).toEqual({
      op: 'BatchGetImage',
      input: {
        registryId: '210987654321',
        repositoryName: 'todo',
        imageIds: [{ imageTag: 'v1', imageDigest: DIGEST }],
        acceptedMediaTypes: MANIFEST_TYPES,
      },
    });
  });

  test('a tag alone: the digest ECR holds for it', async () => {
    send.mockReset();
    send.mockResolvedValueOnce(found);
    expect(await findImage({}, { registry: R, repository: 'todo', tag: 'v1' })).toBe(DIGEST);
    expect(send.mock.calls[0][0].input).toMatchObject({ imageIds: [{ imageTag: 'v1' }] });
  });

  test.each([
    [
      'ImageNotFound',
      `no image todo:v1@${DIGEST} in ECR: push it before this step, or correct the reference`,
    ],
    [
      'ImageTagDoesNotMatchDigest',
      `todo:v1 in ECR is another image than ${DIGEST}: the tag was moved to another build, or the digest is of another image`,
    ],
  ])('%s: a clear error', async (failureCode, message) => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [], failures: [{ failureCode, failureReason: 'x' }] });
    await expect(
      findImage({}, { registry: R, repository: 'todo', tag: 'v1', digest: DIGEST }),
    ).rejects.toThrow(message);
  });

  test('a repository missing from the registry: ECR says so', async () => {
    send.mockReset();
    send.mockRejectedValueOnce(
      Object.assign(
        new Error("The repository with name 'todo' does not exist in the registry with id '999999999999'"),
        {
          name: 'RepositoryNotFoundException',
        },
      ),
    );
    await expect(
      findImage({ registryId: '999999999999' }, { registry: R, repository: 'todo', tag: 'v1' }),
    ).rejects.toThrow(
      "RepositoryNotFoundException: The repository with name 'todo' does not exist in the registry with id '999999999999'",
    );
  });
});

describe("a deploy's outcome, recorded on its images", () => {
  const manifest = '{"schemaVersion":2}';
  const image = (tag: string | undefined, digest: string) => ({
    imageId: { imageTag: tag, imageDigest: digest },
    imageManifest: manifest,
    imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  });

  test('recordDeploy: the deployed digest gets the record tag', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [image(undefined, 'sha256:aa')] });
    send.mockResolvedValueOnce({
      image: { imageId: { imageTag: 'passed-abc1234', imageDigest: 'sha256:aa' } },
    });
    await recordDeploy({}, [{ repository: 'todo', digest: 'sha256:aa' }], 'passed-abc1234');
    expect(send.mock.calls[0][0].input).toMatchObject({
      repositoryName: 'todo',
      imageIds: [{ imageDigest: 'sha256:aa' }, { imageTag: 'passed-abc1234' }],
    });
    expect(send.mock.calls[1][0]).toMatchObject({
      op: 'PutImage',
      input: {
        repositoryName: 'todo',
        imageTag: 'passed-abc1234',
        imageDigest: 'sha256:aa',
        imageManifest: manifest,
      },
    });
  });

  test('recordDeploy: an image ECR no longer holds is an error, nothing put', async () => {
    send.mockReset();
    send.mockResolvedValueOnce({ images: [] });
    await expect(
      recordDeploy({}, [{ repository: 'todo', digest: 'sha256:aa' }], 'failed-tests-abc1234'),
    ).rejects.toThrow('ECR no longer holds todo@sha256:aa');
    expect(send).toHaveBeenCalledTimes(1);
  });

  test.each([
    ['not pushed', [], { digest: undefined, passed: false, failed: undefined }],
    ['pushed, no deploy recorded', [image('abc1234', 'sha256:aa')], { digest: 'sha256:aa', passed: false }],
    [
      'passed',
      [image('abc1234', 'sha256:aa'), image('passed-abc1234', 'sha256:aa')],
      { digest: 'sha256:aa', passed: true, failed: undefined },
    ],
    [
      'its tests failed',
      [image('abc1234', 'sha256:aa'), image('failed-tests-abc1234', 'sha256:aa')],
      { digest: 'sha256:aa', passed: false, failed: 'tests' },
    ],
    [
      "a record of another image under the tag (rebuilt since): not this image's",
      [
        image('abc1234', 'sha256:bb'),
        image('passed-abc1234', 'sha256:aa'),
        image('failed-one-shots-abc1234', 'sha256:aa'),
      ],
      { digest: 'sha256:bb', passed: false, failed: undefined },
    ],
  ])('deployRecords: %s', async (_n, images, expected) => {
    send.mockReset();
    send.mockResolvedValueOnce({ images });
    const [record] = await deployRecords({}, ['todo'], 'abc1234');
    expect(record).toMatchObject({ repository: 'todo', ...expected });
    expect(send.mock.calls[0][0].input).toMatchObject({
      imageIds: [
        { imageTag: 'abc1234' },
        { imageTag: 'passed-abc1234' },
        { imageTag: 'failed-one-shots-abc1234' },
        { imageTag: 'failed-rollout-abc1234' },
        { imageTag: 'failed-tests-abc1234' },
      ],
    });
  });
});
