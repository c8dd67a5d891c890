import { beforeEach, describe, expect, jest, test } from '@jest/globals';

const setSecret = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ setSecret }));
const { maskSecrets } = await import('../../src/report/mask.js');
type Config = Parameters<typeof maskSecrets>[0];

const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUA\n-----END OPENSSH PRIVATE KEY-----';

const config = (over: Record<string, unknown> = {}) =>
  ({
    mode: 'deploy',
    ssh: { privateKey: KEY, passphrase: 'key-passphrase' },
    stackSecrets: [{ name: 'secret_key', env: 'APP_SECRET_KEY', value: 'stack-value' }],
    buildSecrets: [{ id: 'npm_token', env: 'NPM_TOKEN', value: 'line-one\nline-two' }],
    ...over,
  }) as unknown as Config;

beforeEach(() => {
  setSecret.mockClear();
});

describe('maskSecrets', () => {
  test('every secret the step holds is masked from the start: key lines, passphrase, stack and build secrets', () => {
    maskSecrets(config());
    const masked = setSecret.mock.calls.map(([v]) => v);
    for (const value of [
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA',
      'key-passphrase',
      'stack-value',
      Buffer.from('stack-value').toString('base64'),
      'line-one',
      'line-two',
      'line-one\nline-two',
    ])
      expect(masked).toContain(value);
  });

  test('the masker hides them in text for the GitHub API, which the runner does not mask', () => {
    const secrets = maskSecrets(config());
    expect(secrets.mask('token line-one and stack-value, passphrase key-passphrase')).toBe(
      'token *** and ***, passphrase ***',
    );
  });

  test('the GitHub token and the AWS credentials of the step are masked in that text too, and a value learned later', () => {
    const secrets = maskSecrets(config({ githubToken: 'ghs_token123' }), {
      AWS_SECRET_ACCESS_KEY: 'aws/secret+key',
      AWS_SESSION_TOKEN: 'session-token-xyz',
    });
    secrets.add('registry-password');
    expect(
      secrets.mask('ghs_token123 aws/secret+key session-token-xyz registry-password, not AKIAEXAMPLE'),
    ).toBe('*** *** *** ***, not AKIAEXAMPLE');
  });

  test('teardown holds no stack or build secret values', () => {
    maskSecrets(config({ mode: 'teardown', stackSecrets: undefined, buildSecrets: undefined }), {});
    expect(setSecret.mock.calls.map(([v]) => v)).toEqual([
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA',
      '-----END OPENSSH PRIVATE KEY-----',
      'key-passphrase',
    ]);
  });
});
