import { beforeAll, describe, expect, test } from '@jest/globals';
import { InputError, readConfig, type ImageConfig } from '../../src/config/index.js';
import { userStep } from '../helpers/step.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
let inputs: Record<string, string>;

beforeAll(() => {
  const step = userStep('build-');
  inputs = { ...step.inputs, 'ecr-repository': 'todobackend', 'stack-name': 'todobackend' };
  ENV.GITHUB_WORKSPACE = step.dir;
});

const ENV: NodeJS.ProcessEnv = {
  GITHUB_SHA: SHA,
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'octo/todobackend',
  NPM_TOKEN: 'npm-s3cr3t',
};
const read = (overrides: Record<string, string> = {}, env: NodeJS.ProcessEnv = ENV) =>
  readConfig((name) => ({ ...inputs, ...overrides })[name] ?? '', env) as ImageConfig & { tag: string };

function problems(overrides: Record<string, string>, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    read(overrides, env);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InstanceType<typeof InputError>).problems;
  }
  throw new Error('expected an InputError');
}

describe('cache', () => {
  test('on by default: the build is pushed as buildcache too, and imports it', () => {
    expect(read().cache).toEqual({ tag: 'buildcache', from: ['buildcache'] });
  });

  test("a preview writes its pull request's own cache tag, and reads production's too", () => {
    const c = read({ mode: 'preview', 'pr-number': '3', 'app-url': 'http://lb.example.com:{port}' });
    expect(c.cache).toEqual({ tag: 'pr-3-buildcache', from: ['pr-3-buildcache', 'buildcache'] });
  });

  test.each([[{ cache: 'false' }], [{ build: 'false' }], [{ mode: 'promote', 'release-tag': 'v1.0.0' }]])(
    '%o: no cache, where the same step without it has one',
    (overrides) => {
      expect(read(overrides).cache).toBeUndefined();
      expect(read({ ...overrides, cache: 'true', build: 'true', mode: 'deploy' }).cache).toBeDefined();
    },
  );

  test('a value that is not a boolean', () => {
    expect(problems({ cache: 'registry' })).toEqual(['cache must be true or false, not "registry"']);
  });
});

describe('build-secrets', () => {
  test('ID=ENV_VARIABLE lines, the value from the environment', () => {
    const c = read({ 'build-secrets': 'npm_token=NPM_TOKEN\n# a comment\npip.conf = NPM_TOKEN' });
    expect(c.buildSecrets).toEqual([
      { id: 'npm_token', env: 'NPM_TOKEN', value: 'npm-s3cr3t' },
      { id: 'pip.conf', env: 'NPM_TOKEN', value: 'npm-s3cr3t' },
    ]);
    expect(read().buildSecrets).toEqual([]);
  });

  test.each<[string, string[]]>([
    [
      'npm_token',
      [
        'build-secrets: "npm_token" is not ID=ENV_VARIABLE (the id the Dockerfile mounts with RUN --mount=type=secret,id=ID, then the environment variable holding its value)',
      ],
    ],
    [
      'npm token=NPM_TOKEN',
      [
        'build-secrets: "npm token=NPM_TOKEN" is not ID=ENV_VARIABLE (the id the Dockerfile mounts with RUN --mount=type=secret,id=ID, then the environment variable holding its value)',
      ],
    ],
    [
      'npm_token=NPM-TOKEN',
      [
        'build-secrets: "npm_token=NPM-TOKEN" is not ID=ENV_VARIABLE (the id the Dockerfile mounts with RUN --mount=type=secret,id=ID, then the environment variable holding its value)',
      ],
    ],
    [
      'npm_token=EMPTY_TOKEN',
      [
        'build-secrets: npm_token takes its value from EMPTY_TOKEN, which is empty: add "env: EMPTY_TOKEN: ${{ secrets.EMPTY_TOKEN }}" to the step',
      ],
    ],
    [
      'npm_token=NPM_TOKEN\nnpm_token=NPM_TOKEN',
      ['build-secrets: npm_token is given twice; give each id once'],
    ],
  ])('%j: one problem naming the input and the fix', (value, expected) => {
    expect(problems({ 'build-secrets': value })).toEqual(expected);
  });

  test('no value needed when nothing is built', () => {
    expect(read({ build: 'false', 'build-secrets': 'npm_token=EMPTY_TOKEN' }).buildSecrets).toHaveLength(1);
  });
});

describe('labels', () => {
  test('NAME=VALUE lines; the repository for the source label comes from the runner', () => {
    const c = read({
      labels: 'org.opencontainers.image.title=Todo Backend\ncom.example.team = web=ops\nempty=',
    });
    expect(c.labels).toEqual({
      'org.opencontainers.image.title': 'Todo Backend',
      'com.example.team': 'web=ops',
      empty: '',
    });
    expect(c.repositoryUrl).toBe('https://github.com/octo/todobackend');
    expect(read({}, { GITHUB_SHA: SHA }).repositoryUrl).toBeUndefined();
  });

  test.each(['no value', '=x', 'a b=c'])('%j is a problem', (line) => {
    expect(problems({ labels: line })).toEqual([`labels: "${line}" is not NAME=VALUE (one per line)`]);
  });
});
