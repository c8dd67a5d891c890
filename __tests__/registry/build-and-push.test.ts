import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import { fakeDocker } from '../helpers/fake-docker.js';

const core = { setSecret: jest.fn(), info: jest.fn(), warning: jest.fn() };
jest.unstable_mockModule('@actions/core', () => core);

const { buildAndPush, buildArgs, commitTime, digestOf, imageLabels } =
  await import('../../src/registry/build-and-push.js');
type BuildSpec = import('../../src/config/index.js').BuildSpec;
type BuildRun = import('../../src/registry/build-and-push.js').BuildRun;

const SHA = '0123456789abcdef0123456789abcdef01234567';

const spec: BuildSpec = { context: '/w', args: [], labels: {}, from: 'the context input' };

describe('buildArgs', () => {
  test('cache, labels and secrets', () => {
    expect(
      buildArgs(spec, ['r/x:1', 'r/x:buildcache'], {
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
      '/w',
    ]);
  });
});

/** A git checkout whose one commit was made at `at`; returns its folder and the commit. */
function checkout(at: string): { dir: string; sha: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commit-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=a', '-c', 'user.email=a@b', ...args], {
      env: { ...process.env, GIT_COMMITTER_DATE: at, GIT_AUTHOR_DATE: at },
      encoding: 'utf8',
    }).trim();
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'x');
  return { dir, sha: git('rev-parse', 'HEAD') };
}

describe('commitTime: the created label is when the checked-out commit was made', () => {
  test("the checkout's commit time; none outside a checkout", async () => {
    const { dir, sha } = checkout('2026-03-04T05:06:07Z');
    expect((await commitTime(dir, sha))?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect((await commitTime(dir, ''))?.toISOString()).toBe('2026-03-04T05:06:07.000Z');
    expect(await commitTime(fs.mkdtempSync(path.join(os.tmpdir(), 'nogit-')), sha)).toBeUndefined();
  });

  test('a build context shaped like a repository whose config runs a program: git never reads it', async () => {
    const { dir, sha } = checkout('2026-03-04T05:06:07Z');
    // A pull request's build context: a bare repository's files, its one commit "signed", its config
    // showing signatures with a program of its own.
    const context = path.join(dir, 'app');
    execFileSync('git', ['init', '-q', '--bare', context]);
    const marker = path.join(dir, 'ran');
    const program = path.join(context, 'pwn.sh');
    fs.writeFileSync(program, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    execFileSync('git', ['-C', context, 'config', 'log.showSignature', 'true']);
    execFileSync('git', ['-C', context, 'config', 'gpg.program', program]);
    const tree = execFileSync('git', ['-C', context, 'hash-object', '-t', 'tree', '-w', '--stdin'], {
      input: '',
      encoding: 'utf8',
    }).trim();
    const commit = [
      `tree ${tree}`,
      'author a <a@b> 1700000000 +0000',
      'committer a <a@b> 1700000000 +0000',
      'gpgsig -----BEGIN PGP SIGNATURE-----',
      ' ',
      ' iQEzBAABCAAdFiEE',
      ' -----END PGP SIGNATURE-----',
      '',
      'x',
      '',
    ].join('\n');
    const id = execFileSync('git', ['-C', context, 'hash-object', '-t', 'commit', '-w', '--stdin'], {
      input: commit,
      encoding: 'utf8',
    }).trim();
    execFileSync('git', ['-C', context, 'update-ref', 'HEAD', id]);
    // The trap is real: git run in that folder runs the program.
    execFileSync('git', ['-C', context, 'log', '-1'], { stdio: 'ignore' });
    expect(fs.existsSync(marker)).toBe(true);
    fs.rmSync(marker);

    const { run: calls, docker } = fakeDocker();
    const image = { repository: 'app', build: { ...spec, context }, services: ['app'] };
    await buildAndPush(docker, [image], { ...buildRun, workspace: dir, sha });
    expect(fs.existsSync(marker)).toBe(false);
    const build = calls.mock.calls.map(([args]) => args).find((a) => a[0] === 'build' && a[1] !== '--help');
    expect(build).toContain('org.opencontainers.image.created=2026-03-04T05:06:07Z');
  });
});

const buildRun: BuildRun = {
  registry: 'reg',
  tag: '0123456',
  extraTags: [],
  sha: SHA,
  workspace: '/w',
  buildSecrets: [],
  labels: {},
};

describe('imageLabels', () => {
  const config: BuildRun = {
    ...buildRun,
    tag: 'abc1234',
    repositoryUrl: 'https://github.com/octo/todobackend',
  };
  const created = new Date('2026-11-28T10:11:12.345Z');

  test('the OCI labels: source, revision, created (RFC 3339), version', () => {
    expect(imageLabels(config, spec, created)).toEqual({
      'org.opencontainers.image.source': 'https://github.com/octo/todobackend',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.created': '2026-11-28T10:11:12Z',
      'org.opencontainers.image.version': 'abc1234',
    });
  });

  test("a build: section's labels, then the labels input on top; no source or revision when the run does not know them", () => {
    const labels = imageLabels(
      { ...config, sha: '', repositoryUrl: undefined, labels: { 'org.opencontainers.image.version': '2.0' } },
      { labels: { 'org.opencontainers.image.version': '1.9', 'com.example.part': 'proxy' } },
      created,
    );
    expect(labels).toEqual({
      'org.opencontainers.image.created': '2026-11-28T10:11:12Z',
      'org.opencontainers.image.version': '2.0',
      'com.example.part': 'proxy',
    });
  });
});

describe('buildAndPush', () => {
  beforeEach(() => {
    jest.clearAllMocks();
  });
  const run: BuildRun = {
    ...buildRun,
    extraTags: ['pr-3-x'],
    cache: { tag: 'pr-3-buildcache', from: ['pr-3-buildcache', 'buildcache'] },
  };
  const app = { repository: 'app', build: spec, services: ['app', 'migrate'] };
  const proxy = { repository: 'proxy', build: { ...spec, context: '/w/proxy' }, services: ['proxy'] };
  const commands = (calls: ReturnType<typeof fakeDocker>['run']) =>
    calls.mock.calls.map(([args]) => args.join(' ')).filter((c) => !c.startsWith('build --help'));

  test('classic builder: pulls the cache images first (none yet is fine), builds from what it got, pushes the cache tag last', async () => {
    const { run: calls, docker } = fakeDocker({ fails: ['pull reg/app:pr-3-buildcache'] });
    const [built] = await buildAndPush(docker, [app], run);
    expect(built).toMatchObject({ repository: 'app', digest: 'sha256:abc', cacheReused: false });
    const cmds = commands(calls);
    expect(cmds.slice(0, 2)).toEqual(['pull reg/app:pr-3-buildcache', 'pull reg/app:buildcache']);
    expect(cmds[2]).toMatch(
      /^build --tag reg\/app:0123456 --tag reg\/app:pr-3-x --tag reg\/app:pr-3-buildcache --cache-from reg\/app:buildcache --label /,
    );
    expect(cmds[2]).not.toContain('BUILDKIT_INLINE_CACHE');
    expect(cmds.slice(3)).toEqual([
      'push reg/app:0123456',
      'push reg/app:pr-3-x',
      'push reg/app:pr-3-buildcache',
      'image inspect --format {{json .RepoDigests}} reg/app:0123456',
    ]);
    expect(core.info).toHaveBeenCalledWith(
      expect.stringContaining('no build cache from reg/app:pr-3-buildcache'),
    );
  });

  test('two images: both built before either is pushed, each with its own cache; a step from the cache is told', async () => {
    const { run: calls, docker } = fakeDocker({ cached: ['build --tag reg/proxy'] });
    const built = await buildAndPush(docker, [app, proxy], { ...run, extraTags: [] });
    expect(built.map((b) => [b.repository, b.cacheReused])).toEqual([
      ['app', false],
      ['proxy', true],
    ]);
    const cmds = commands(calls).map((c) => c.split(' --')[0]);
    expect(cmds).toEqual([
      'pull reg/app:pr-3-buildcache',
      'pull reg/app:buildcache',
      'build',
      'pull reg/proxy:pr-3-buildcache',
      'pull reg/proxy:buildcache',
      'build',
      'push reg/app:0123456',
      'push reg/app:pr-3-buildcache',
      'image inspect',
      'push reg/proxy:0123456',
      'push reg/proxy:pr-3-buildcache',
      'image inspect',
    ]);
  });

  test.each([1, 2])('one image failing to build (%i at a time): nothing is pushed', async (concurrency) => {
    const { run: calls, docker } = fakeDocker({ fails: ['build --tag reg/proxy'] });
    await expect(buildAndPush(docker, [app, proxy], run, { concurrency })).rejects.toThrow();
    expect(commands(calls).filter((c) => c.startsWith('push'))).toEqual([]);
    // Every build of the batch ran to its end before the failure was told.
    expect(commands(calls).filter((c) => c.startsWith('build'))).toHaveLength(2);
  });

  test('BuildKit: pulls the cache images too (so that the layers it reuses are pushed with their metadata) and writes inline cache metadata', async () => {
    const { run: calls, docker } = fakeDocker({
      buildKit: () => true,
      fails: ['pull reg/app:pr-3-buildcache'],
    });
    await buildAndPush(docker, [app], run);
    const cmds = commands(calls);
    expect(cmds.slice(0, 2)).toEqual(['pull reg/app:pr-3-buildcache', 'pull reg/app:buildcache']);
    expect(cmds[2]).toContain('--build-arg BUILDKIT_INLINE_CACHE=1 --cache-from reg/app:buildcache --label');
  });

  test('a cache tag the registry refuses (immutable tags) is a warning, not a failed deploy', async () => {
    const { docker } = fakeDocker({ fails: ['push reg/app:pr-3-buildcache'] });
    await expect(buildAndPush(docker, [app], run)).resolves.toMatchObject([{ digest: 'sha256:abc' }]);
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(/^cache: the build cache could not be pushed to reg\/app:pr-3-buildcache/),
    );
  });

  test('without cache: no pull, no cache tag; the labels still', async () => {
    const { run: calls, docker } = fakeDocker();
    await buildAndPush(docker, [app], { ...run, cache: undefined });
    expect(commands(calls).join('\n')).not.toMatch(/pull|cache/);
    expect(commands(calls)[0]).toContain('--label org.opencontainers.image.version=0123456');
  });

  test('build secrets: in a private file only while the build runs, never an argument or in its environment', async () => {
    const { run: calls, docker, work } = fakeDocker();
    const secret = 'line-one\nline-two';
    let seen: { mode: number; dirMode: number; text: string } | undefined;
    calls.mockImplementationOnce(async () => ({
      exitCode: 0,
      stdout: '  --secret stringArray\n',
      stderr: '',
    }));
    calls.mockImplementationOnce(async (args: string[]) => {
      const src = /src=([^,\s]+)/.exec(args.join(' '))![1];
      seen = {
        mode: fs.statSync(src).mode & 0o777,
        dirMode: fs.statSync(path.dirname(src)).mode & 0o777,
        text: fs.readFileSync(src, 'utf8'),
      };
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    await buildAndPush(docker, [app], {
      ...run,
      cache: undefined,
      buildSecrets: [{ id: 'npm_token', env: 'NPM_TOKEN', value: secret }],
    });
    const build = calls.mock.calls.find(([args]) => args[0] === 'build' && args[1] !== '--help')!;
    expect(build[0].join(' ')).toMatch(new RegExp(`--secret id=npm_token,src=${work}/build-secrets-\\w+/0`));
    expect(build[0].join(' ')).not.toContain('line-');
    expect(JSON.stringify(build[1] ?? {})).not.toContain('line-');
    expect(seen).toEqual({ mode: 0o600, dirMode: 0o700, text: secret });
    expect(fs.readdirSync(work)).toEqual([]);
  });
});

describe('buildArgs', () => {
  test.each<[string, Partial<BuildSpec>, string[]]>([
    ['plain', {}, ['build', '--tag', 'r/x:1', '/w']],
    [
      'every option (the Dockerfile from the context)',
      { dockerfile: 'docker/Dockerfile', args: ['A=1', 'B=x y'], target: 'release', context: '/w/app' },
      [
        'build',
        '--tag',
        'r/x:1',
        '--tag',
        'r/x:latest',
        '--file',
        '/w/app/docker/Dockerfile',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=x y',
        '--target',
        'release',
        '/w/app',
      ],
    ],
  ])('%s', (_name, overrides, args) => {
    const refs = overrides.target ? ['r/x:1', 'r/x:latest'] : ['r/x:1'];
    expect(buildArgs({ ...spec, ...overrides }, refs)).toEqual(args);
  });
});

describe('digestOf', () => {
  const digests = ['127.0.0.1:5000/todo@sha256:aaa', '127.0.0.1:5000/todo-other@sha256:bbb'];
  test('picks the digest of this repository, not of a repository with a longer name', () => {
    expect(digestOf(digests, '127.0.0.1:5000/todo')).toBe('sha256:aaa');
    expect(digestOf(digests, '127.0.0.1:5000/todo-other')).toBe('sha256:bbb');
    expect(digestOf(digests, '127.0.0.1:5000/none')).toBeUndefined();
  });
});
