import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { userStep } from './step.js';

const core = { setSecret: jest.fn(), info: jest.fn(), warning: jest.fn() };
jest.unstable_mockModule('@actions/core', () => core);

const { InputError, readConfig } = await import('../src/config/index.js');
const { buildAndPush, buildArgs, commitTime, imageLabels } = await import('../src/registry/image.js');
const { detectBuilder } = await import('../src/registry/builder.js');
type ImageConfig = import('../src/config/index.js').ImageConfig;
type DockerCli = import('../src/runner/docker.js').DockerCli;

const SHA = '0123456789abcdef0123456789abcdef01234567';
let inputs: Record<string, string>;

beforeAll(() => {
  inputs = { ...userStep('build-').inputs, 'ecr-repository': 'todobackend', 'stack-name': 'todobackend' };
});

const ENV = {
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

const base = { context: '.', buildArgs: [], buildSecrets: [], labels: {} } as unknown as ImageConfig;

describe('buildArgs', () => {
  test('cache, labels and secrets', () => {
    expect(
      buildArgs(base, ['r/x:1', 'r/x:buildcache'], {
        inlineCache: true,
        cacheFrom: ['r/x:buildcache'],
        labels: { 'org.opencontainers.image.version': '1', note: 'a b' },
        secrets: [{ id: 'npm_token', src: '/work/build-secrets-x/0' }],
      }),
    ).toEqual([
      'build',
      '--tag',
      'r/x:1',
      '--tag',
      'r/x:buildcache',
      '--build-arg',
      'BUILDKIT_INLINE_CACHE=1',
      '--cache-from',
      'r/x:buildcache',
      '--label',
      'org.opencontainers.image.version=1',
      '--label',
      'note=a b',
      '--secret',
      'id=npm_token,src=/work/build-secrets-x/0',
      '.',
    ]);
  });
});

describe('commitTime: the created label is when the checked-out commit was made', () => {
  test('a git checkout: its commit time; anything else: none', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'commit-'));
    const at = '2026-03-04T05:06:07Z';
    execFileSync('git', ['init', '-q', repo]);
    execFileSync(
      'git',
      ['-C', repo, '-c', 'user.name=a', '-c', 'user.email=a@b', 'commit', '-q', '--allow-empty', '-m', 'x'],
      {
        env: { ...process.env, GIT_COMMITTER_DATE: at, GIT_AUTHOR_DATE: at },
      },
    );
    expect((await commitTime(repo))?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(await commitTime(fs.mkdtempSync(path.join(os.tmpdir(), 'nogit-')))).toBeUndefined();
  });
});

describe('imageLabels', () => {
  const config = {
    ...base,
    tag: 'abc1234',
    sha: SHA,
    repositoryUrl: 'https://github.com/octo/todobackend',
  };
  const created = new Date('2026-11-28T10:11:12.345Z');

  test('the OCI labels: source, revision, created (RFC 3339), version', () => {
    expect(imageLabels(config, created)).toEqual({
      'org.opencontainers.image.source': 'https://github.com/octo/todobackend',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.created': '2026-11-28T10:11:12Z',
      'org.opencontainers.image.version': 'abc1234',
    });
  });

  test("the user's labels on top; no source or revision when the run does not know them", () => {
    const labels = imageLabels(
      { ...config, sha: '', repositoryUrl: undefined, labels: { 'org.opencontainers.image.version': '2.0' } },
      created,
    );
    expect(labels).toEqual({
      'org.opencontainers.image.created': '2026-11-28T10:11:12Z',
      'org.opencontainers.image.version': '2.0',
    });
  });
});

/** A docker CLI whose build --help lists --secret when buildKit says so, given the call's DOCKER_BUILDKIT. */
function fakeDocker({
  buildKit = (env: Record<string, string>) => env.DOCKER_BUILDKIT === '1',
  env = {} as Record<string, string>,
  fails = [] as string[],
} = {}) {
  const run = jest.fn(async (args: string[], options: { env?: Record<string, string> } = {}) => {
    const callEnv = { ...env, ...options.env };
    if (args[0] === 'build' && args[1] === '--help')
      return {
        exitCode: 0,
        stdout: buildKit(callEnv) ? '  --secret stringArray\n' : '  --cache-from\n',
        stderr: '',
      };
    if (args[0] === 'image')
      return { exitCode: 0, stdout: JSON.stringify(['reg/app@sha256:abc']), stderr: '' };
    const failed = fails.includes(args.join(' '));
    return { exitCode: failed ? 1 : 0, stdout: '', stderr: failed ? 'manifest unknown' : '' };
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'work-'));
  return {
    run,
    work,
    docker: {
      run,
      env: () => ({ ...env }),
      configDir: path.join(work, 'docker-config'),
    } as unknown as DockerCli,
  };
}

describe('detectBuilder', () => {
  test("BuildKit when docker build offers --secret (buildx, or DOCKER_BUILDKIT=1): the CLI's own choice", async () => {
    const { docker } = fakeDocker({ buildKit: () => true });
    await expect(detectBuilder(docker, false)).resolves.toEqual({ buildKit: true, env: {} });
  });

  test('the classic builder otherwise, unless build-secrets need BuildKit and the CLI has it built in', async () => {
    const { docker } = fakeDocker();
    await expect(detectBuilder(docker, false)).resolves.toEqual({ buildKit: false, env: {} });
    await expect(detectBuilder(docker, true)).resolves.toEqual({
      buildKit: true,
      env: { DOCKER_BUILDKIT: '1' },
    });
  });

  test('build-secrets with a CLI that has no BuildKit: an error naming the input and the fix', async () => {
    const { docker } = fakeDocker({ buildKit: () => false });
    await expect(detectBuilder(docker, true)).rejects.toThrow(
      'build-secrets need BuildKit, and this docker CLI builds with the classic builder only: install buildx (docker/setup-buildx-action, or the docker-buildx-plugin package), or remove build-secrets',
    );
  });

  test('build-secrets while the step turns BuildKit off', async () => {
    const { docker } = fakeDocker({ env: { DOCKER_BUILDKIT: '0' } });
    await expect(detectBuilder(docker, true)).rejects.toThrow(
      "build-secrets need BuildKit, but the step's environment sets DOCKER_BUILDKIT=0: remove it",
    );
  });
});

describe('buildAndPush', () => {
  beforeEach(() => {
    jest.clearAllMocks();
  });
  const config = {
    ...base,
    tag: '0123456',
    sha: SHA,
    cache: { tag: 'pr-3-buildcache', from: ['pr-3-buildcache', 'buildcache'] },
  };
  const commands = (run: ReturnType<typeof fakeDocker>['run']) =>
    run.mock.calls.map(([args]) => args.join(' ')).filter((c) => !c.startsWith('build --help'));

  test('classic builder: pulls the cache images first (none yet is fine), builds from what it got, pushes the cache tag last', async () => {
    const { run, docker } = fakeDocker({ fails: ['pull reg/app:pr-3-buildcache'] });
    const digest = await buildAndPush(docker, config, 'reg/app', ['reg/app:0123456', 'reg/app:pr-3-x']);
    expect(digest).toBe('sha256:abc');
    const calls = commands(run);
    expect(calls.slice(0, 2)).toEqual(['pull reg/app:pr-3-buildcache', 'pull reg/app:buildcache']);
    expect(calls[2]).toMatch(
      /^build --tag reg\/app:0123456 --tag reg\/app:pr-3-x --tag reg\/app:pr-3-buildcache --cache-from reg\/app:buildcache --label /,
    );
    expect(calls[2]).not.toContain('BUILDKIT_INLINE_CACHE');
    expect(calls.slice(3)).toEqual([
      'push reg/app:0123456',
      'push reg/app:pr-3-x',
      'push reg/app:pr-3-buildcache',
      'image inspect --format {{json .RepoDigests}} reg/app:0123456',
    ]);
    expect(core.info).toHaveBeenCalledWith(
      expect.stringContaining('no build cache from reg/app:pr-3-buildcache'),
    );
  });

  test('BuildKit: pulls the cache images too (so that the layers it reuses are pushed with their metadata) and writes inline cache metadata', async () => {
    const { run, docker } = fakeDocker({ buildKit: () => true, fails: ['pull reg/app:pr-3-buildcache'] });
    await buildAndPush(docker, config, 'reg/app', ['reg/app:0123456']);
    const calls = commands(run);
    expect(calls.slice(0, 2)).toEqual(['pull reg/app:pr-3-buildcache', 'pull reg/app:buildcache']);
    expect(calls[2]).toContain('--build-arg BUILDKIT_INLINE_CACHE=1 --cache-from reg/app:buildcache --label');
  });

  test('a cache tag the registry refuses (immutable tags) is a warning, not a failed deploy', async () => {
    const { docker } = fakeDocker({ fails: ['push reg/app:pr-3-buildcache'] });
    await expect(buildAndPush(docker, config, 'reg/app', ['reg/app:0123456'])).resolves.toBe('sha256:abc');
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/^cache: the build cache could not be pushed to reg\/app:pr-3-buildcache/),
    );
  });

  test('without cache: no pull, no cache tag; the labels still', async () => {
    const { run, docker } = fakeDocker();
    await buildAndPush(docker, { ...config, cache: undefined }, 'reg/app', ['reg/app:0123456']);
    expect(commands(run).join('\n')).not.toMatch(/pull|cache/);
    expect(commands(run)[0]).toContain('--label org.opencontainers.image.version=0123456');
  });

  test('build secrets: in a private file only while the build runs, never an argument or in its environment', async () => {
    const { run, docker, work } = fakeDocker();
    const secret = 'line-one\nline-two';
    let seen: { mode: number; dirMode: number; text: string } | undefined;
    run.mockImplementationOnce(async () => ({
      exitCode: 0,
      stdout: '  --secret stringArray\n',
      stderr: '',
    }));
    run.mockImplementationOnce(async (args: string[]) => {
      const src = /src=([^,\s]+)/.exec(args.join(' '))![1];
      seen = {
        mode: fs.statSync(src).mode & 0o777,
        dirMode: fs.statSync(path.dirname(src)).mode & 0o777,
        text: fs.readFileSync(src, 'utf8'),
      };
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    await buildAndPush(
      docker,
      { ...config, cache: undefined, buildSecrets: [{ id: 'npm_token', env: 'NPM_TOKEN', value: secret }] },
      'reg/app',
      ['reg/app:0123456'],
    );
    const build = run.mock.calls.find(([args]) => args[0] === 'build' && args[1] !== '--help')!;
    expect(build[0].join(' ')).toMatch(new RegExp(`--secret id=npm_token,src=${work}/build-secrets-\\w+/0`));
    expect(build[0].join(' ')).not.toContain('line-');
    expect(JSON.stringify(build[1])).not.toContain('line-');
    expect(seen).toEqual({ mode: 0o600, dirMode: 0o700, text: secret });
    expect(fs.readdirSync(work)).toEqual([]);
  });
});
