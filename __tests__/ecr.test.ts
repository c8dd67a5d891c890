import { describe, expect, jest, test } from '@jest/globals';

const send = jest.fn<(command: unknown) => Promise<unknown>>();
jest.unstable_mockModule('@aws-sdk/client-ecr', () => ({
  ECRClient: jest.fn().mockImplementation(() => ({ send, destroy: () => undefined })),
  GetAuthorizationTokenCommand: jest.fn(),
  BatchGetImageCommand: jest.fn(),
  PutImageCommand: jest.fn(),
  ListImagesCommand: jest.fn(),
  BatchDeleteImageCommand: jest.fn(),
}));
const setSecret = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ setSecret, info: jest.fn() }));

const { decodeAuthorization, getRegistryAuth, dockerLogin } = await import('../src/ecr.js');

const token = Buffer.from('AWS:s3cr3t:with:colons').toString('base64');

describe('decodeAuthorization', () => {
  test('splits AWS:password at the first colon and drops the scheme', () => {
    expect(decodeAuthorization(token, 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com')).toEqual({
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      username: 'AWS',
      password: 's3cr3t:with:colons',
    });
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
    const auth = await getRegistryAuth('us-east-1');
    expect(auth).toEqual({
      registry: 'r.example',
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
    await expect(getRegistryAuth()).rejects.toThrow(/configure-aws-credentials/);
  });

  test('missing region: names the input', async () => {
    send.mockRejectedValueOnce(new Error('Region is missing'));
    await expect(getRegistryAuth()).rejects.toThrow(/set aws-region/);
  });

  test('no authorization data', async () => {
    send.mockResolvedValueOnce({ authorizationData: [] });
    await expect(getRegistryAuth()).rejects.toThrow(/no authorization data/);
  });
});

describe('dockerLogin', () => {
  test('passes the password on stdin, never as an argument', async () => {
    const run = jest.fn<(args: string[], o: { input?: string }) => Promise<unknown>>().mockResolvedValue({});
    await dockerLogin({ run } as never, { registry: 'r.example', username: 'AWS', password: 'pw' });
    const [args, options] = run.mock.calls[0];
    expect(args).toEqual(['login', '--username', 'AWS', '--password-stdin', 'r.example']);
    expect(args.join(' ')).not.toContain('pw');
    expect(options.input).toBe('pw');
  });
});
