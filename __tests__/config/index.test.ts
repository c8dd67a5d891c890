import fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import type { InputError } from '../../src/config/index.js';
import { configStep, readConfig, SHA } from '../helpers/config.js';

// What readConfig assembles from every part of config/ over the modes; what config/stack.ts and
// config/ssh.ts decide is in stack.test.ts and ssh.test.ts.
const step = configStep('inputs-');
const { read, problems } = step;

describe('readConfig', () => {
  test('defaults', () => {
    const c = read();
    expect(c).toMatchObject({
      repository: 'docker-in-aws/todobackend',
      tag: SHA.slice(0, 7),
      build: true,
      versionVariable: 'APP_VERSION',
      oneShotServices: ['migrate'],
      oneShotTimeout: 600,
      convergeTimeout: 300,
      acceptance: true,
      acceptanceCommand: ['bats', '/app/src/acceptance.bats'],
      acceptanceArgs: [],
    });
    expect(c.ssh).toMatchObject({
      managers: [{ host: 'manager.example.com' }],
      port: 22,
      user: 'docker',
      remoteSocket: '/var/run/docker.sock',
    });
    expect(c.ssh.managers[0].hostKey.keys).toHaveLength(1);
  });

  test('every other input', () => {
    const c = read({
      'tag-format': 'full',
      'extra-tags': 'latest, stable\nedge',
      'build-args': 'A=1\n# comment\nB=two words',
      'stack-env': 'APP_PORT=8200\nDOMAIN = example.com',
      'one-shot-services': 'migrate\ncollectstatic',
      'one-shot-timeout': '5m',
      'acceptance-command': `bats --tap "/app/src/my tests.bats"`,
      'acceptance-args': `--network host -e 'X=a b'`,
      'ssh-port': '2222',
      'ssh-known-hosts': `[manager.example.com]:2222 ${step.inputs['ssh-known-hosts'].split(' ').slice(1).join(' ')}`,
    });
    expect(c.tag).toBe(SHA);
    expect(c.extraTags).toEqual(['latest', 'stable', 'edge']);
    expect(c.inputBuild?.args).toEqual(['A=1', 'B=two words']);
    expect(c.stackEnv).toEqual({ APP_PORT: '8200', DOMAIN: 'example.com' });
    expect(c.oneShotServices).toEqual(['migrate', 'collectstatic']);
    expect(c.oneShotTimeout).toBe(300);
    expect(c.acceptanceCommand).toEqual(['bats', '--tap', '/app/src/my tests.bats']);
    expect(c.acceptanceArgs).toEqual(['--network', 'host', '-e', 'X=a b']);
    expect(c.ssh.port).toBe(2222);
  });

  test('image-tag overrides the SHA, and one-shot-services none disables the wait', () => {
    const c = read({ 'image-tag': 'v1.2.3', 'one-shot-services': 'none' }, {});
    expect(c.tag).toBe('v1.2.3');
    expect(c.oneShotServices).toEqual([]);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['missing repository', { 'ecr-repository': '' }, /^ecr-repository is required/],
    [
      'repository with a registry host',
      { 'ecr-repository': '123.dkr.ecr.us-east-1.amazonaws.com/x:1' },
      /ecr-repository ".*" is not a valid repository name/,
    ],
    [
      'non-numeric timeout',
      { 'one-shot-timeout': 'ten' },
      /^one-shot-timeout must be a positive number of seconds/,
    ],
    ['zero timeout', { 'converge-timeout': '0' }, /^converge-timeout must be a positive number/],
    ['bad boolean', { build: 'maybe' }, /^build must be true or false, not "maybe"/],
    ['bad tag format', { 'tag-format': 'long' }, /^tag-format must be short or full/],
    ['bad extra tag', { 'extra-tags': 'ok, not ok' }, /^extra-tags: "not ok" is not a valid Docker tag/],
    ['bad build arg', { 'build-args': '1X=2' }, /^build-args: "1X=2" is not NAME=VALUE/],
    ['missing app-url', { 'app-url': '' }, /^app-url is required when acceptance is on/],
    ['bad app-url', { 'app-url': 'lb.example.com' }, /^app-url "lb.example.com" must be an http/],
    ['unclosed quote', { 'acceptance-command': 'bats "x' }, /^acceptance-command has an unclosed "/],
  ])('%s', (_name, overrides, message) => {
    const found = problems(overrides);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  test('no SHA and no image-tag', () => {
    expect(problems({}, {})).toEqual([expect.stringMatching(/^sha "" is not a commit SHA: set sha/)]);
  });

  test('several bad inputs are reported together, each on its own line', () => {
    try {
      read({ 'ssh-host': '', 'stack-name': '' });
      throw new Error('no error');
    } catch (e) {
      expect((e as Error).message).toMatch(
        /^2 inputs need fixing:\n- ssh-host is required.*\n- stack-name is required/,
      );
    }
  });

  test('acceptance off needs no app-url', () => {
    expect(read({ acceptance: 'false', 'app-url': '' }).acceptance).toBe(false);
  });

  test('build false skips the Dockerfile check', () => {
    expect(read({ build: 'false', context: '/nope' }).build).toBe(false);
  });
});

describe('modes', () => {
  const HEAD = 'fedcba9876543210fedcba9876543210fedcba98';

  test('preview: own stack, head commit, pr-tagged image, port and URL from the pull request', () => {
    const c = read(
      { mode: 'preview', 'app-url': 'http://swarm.example.com:{port}/{stack}' },
      { GITHUB_SHA: SHA },
      { pull_request: { number: 42, head: { sha: HEAD } } },
    );
    expect(c).toMatchObject({
      mode: 'preview',
      stackName: 'todobackend-pr-42',
      sha: HEAD,
      tag: 'pr-42-fedcba9',
      preview: { number: 42, port: 20042 },
      appUrl: 'http://swarm.example.com:20042/todobackend-pr-42',
    });
  });

  test('preview: pr-number and preview-port-base override the event', () => {
    const c = read({ mode: 'preview', 'pr-number': '7', 'preview-port-base': '30000' });
    expect(c.preview).toEqual({ number: 7, port: 30007 });
    expect(c.sha).toBe(SHA);
  });

  test.each([
    [42, 20042],
    [45535, 65535],
    [45536, 20001],
    [91071, 20001],
    [91072, 20002],
  ])('preview: pull request %d publishes on %d (past 65535 the ports wrap round)', (number, port) => {
    const c = read({ mode: 'preview', 'pr-number': String(number), 'preview-port-base': '20000' });
    expect(c.preview).toEqual({ number, port });
  });

  test.each<[string, Record<string, string>, RegExp]>([
    [
      'no pull request',
      { mode: 'preview' },
      /^pr-number is required in mode preview outside a pull_request event/,
    ],
    [
      'a bad pr-number',
      { mode: 'teardown', 'pr-number': '4x' },
      /^pr-number must be a pull request number, not "4x"/,
    ],
    [
      'a preview-port-base past the last port',
      { mode: 'preview', 'pr-number': '5', 'preview-port-base': '65535' },
      /^preview-port-base must be a TCP port from 1 to 65534, not "65535"/,
    ],
    [
      'an unknown mode',
      { mode: 'release' },
      /^mode must be one of deploy, preview, teardown, promote, not "release"/,
    ],
    ['{port} outside previews', { 'app-url': 'http://x:{port}' }, /exist only in mode preview/],
    [
      'delete-images outside teardown',
      { 'delete-images': 'true' },
      /^delete-images only applies to mode: teardown/,
    ],
    ['promote without a version', { mode: 'promote' }, /^release-tag is required in mode promote/],
    [
      'preview-allow outside previews',
      { 'preview-allow': 'port:80' },
      /^preview-allow only applies to mode: preview/,
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(problems(overrides)).toEqual([expect.stringMatching(expected)]);
  });

  test('teardown needs no repository, stack file, build context or app URL', () => {
    const c = read(
      {
        mode: 'teardown',
        'pr-number': '9',
        'ecr-repository': '',
        'stack-file': '/nonexistent.yml',
        context: '/nonexistent',
        'app-url': '',
      },
      {},
    );
    expect(c).toMatchObject({ mode: 'teardown', stackName: 'todobackend-pr-9' });
    // A teardown's config has nothing to build or test.
    expect(c).not.toHaveProperty('build');
    expect(c).not.toHaveProperty('acceptance');
  });

  test("teardown's delete-images: ecr-repository and the repositories preview-allow lets previews push to", () => {
    const c = read(
      {
        mode: 'teardown',
        'pr-number': '9',
        'delete-images': 'true',
        'preview-allow': 'repository:todobackend-proxy, bind:/srv, repository:docker-in-aws/todobackend',
      },
      {},
    );
    expect(c).toMatchObject({
      repository: 'docker-in-aws/todobackend',
      grantedRepositories: ['todobackend-proxy'],
    });
  });

  test('promote: the version from the pushed tag or the release, the commit image as the source', () => {
    const fromRef = read(
      { mode: 'promote', 'extra-tags': 'latest' },
      { GITHUB_SHA: SHA, GITHUB_REF: 'refs/tags/v1.2.3' },
    );
    expect(fromRef).toMatchObject({
      tag: 'v1.2.3',
      sourceTag: '0123456',
      extraTags: ['latest'],
      build: false,
    });
    const fromRelease = read(
      { mode: 'promote' },
      { GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main' },
      { release: { tag_name: 'v2.0.0' } },
    );
    expect(fromRelease).toMatchObject({ tag: 'v2.0.0', sourceTag: '0123456' });
  });
});

describe('nothing secret reaches docker by name, and nothing steers it', () => {
  test.each([
    [
      { 'build-args': 'AWS_SECRET_ACCESS_KEY' },
      'build-args: "AWS_SECRET_ACCESS_KEY" is not NAME=VALUE (one per line)',
    ],
    [
      { 'acceptance-args': '--network host -e AWS_SECRET_ACCESS_KEY' },
      'acceptance-args: "-e AWS_SECRET_ACCESS_KEY" passes a variable by name; give NAME=VALUE',
    ],
    [
      { 'acceptance-args': '--env=GITHUB_TOKEN' },
      'acceptance-args: "--env=GITHUB_TOKEN" passes a variable by name; give NAME=VALUE',
    ],
    [
      { 'acceptance-args': '-eTOKEN' },
      'acceptance-args: "-eTOKEN" passes a variable by name; give NAME=VALUE',
    ],
  ])('%o is refused', (overrides, message) => {
    expect(problems(overrides, { GITHUB_SHA: SHA, APP_SECRET_KEY: 'value' })).toEqual([message]);
  });

  test('values given as NAME=VALUE pass', () => {
    const c = read({
      'build-args': 'A=1',
      'acceptance-args': '-e A=1 --env=B=2 --network host',
      'stack-env': 'DOMAIN=x',
    });
    expect(c.acceptanceArgs).toEqual(['-e', 'A=1', '--env=B=2', '--network', 'host']);
  });
});

describe('durations', () => {
  test('at most 6 hours, the longest a hosted job runs', () => {
    expect(read({ 'acceptance-timeout': '360m' }).acceptanceTimeout).toBe(21600);
    expect(problems({ 'acceptance-timeout': '9999999', 'one-shot-timeout': '361m' })).toEqual([
      'one-shot-timeout must be at most 21600 seconds (6 hours, the longest a hosted job runs), not "361m"',
      'acceptance-timeout must be at most 21600 seconds (6 hours, the longest a hosted job runs), not "9999999"',
    ]);
  });
});

describe('action.yml', () => {
  test('declares exactly the inputs readConfig reads, over all modes', async () => {
    const { parse } = await import('yaml');
    const action = parse(fs.readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> };
    const asked = new Set<string>();
    for (const mode of ['deploy', 'preview', 'teardown', 'promote']) {
      readConfig(
        (name) => {
          asked.add(name);
          return { ...step.inputs, mode, 'pr-number': '3', 'release-tag': 'v1.0.0' }[name] ?? '';
        },
        { GITHUB_SHA: SHA, GITHUB_WORKSPACE: step.dir },
      );
    }
    // The jump host's port is read only with a jump host (its known hosts are missing here).
    expect(() =>
      readConfig(
        (name) => {
          asked.add(name);
          return { ...step.inputs, 'ssh-jump-host': 'bastion' }[name] ?? '';
        },
        { GITHUB_SHA: SHA },
      ),
    ).toThrow(/ssh-jump-known-hosts is required/);
    expect([...asked].sort()).toEqual(Object.keys(action.inputs).sort());
  });
});

describe("runner-faithful: every action.yml default arrives set, as GitHub's runner sets it", () => {
  const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  /** The INPUT_* values the runner sets from action.yml alone, with ${{ github.token }} evaluated. */
  const runnerDefaults = Object.fromEntries(
    Object.entries(action.inputs)
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, String(spec.default).replace('${{ github.token }}', 'ghs_runner_token')]),
  );
  const pullRequest = { pull_request: { number: 7, head: { sha: SHA } } };
  // The README's examples, mode by mode: only what a user writes under with:.
  const cases: [string, Record<string, string>, NodeJS.ProcessEnv, Record<string, unknown>][] = [
    ['deploy', {}, { GITHUB_SHA: SHA }, {}],
    [
      'preview',
      {
        mode: 'preview',
        'stack-secrets': 'secret_key=APP_SECRET_KEY',
        'app-url': 'http://swarm.example.com:{port}',
        'delete-images': 'false',
      },
      { GITHUB_SHA: SHA, APP_SECRET_KEY: 'value' },
      pullRequest,
    ],
    [
      'teardown',
      {
        mode: 'teardown',
        'stack-secrets': 'secret_key=APP_SECRET_KEY',
        'app-url': 'http://swarm.example.com:{port}',
        'delete-images': 'true',
      },
      { GITHUB_SHA: SHA },
      pullRequest,
    ],
    [
      'promote',
      { mode: 'promote', 'extra-tags': 'latest' },
      { GITHUB_SHA: SHA, GITHUB_REF: 'refs/tags/v1.2.3' },
      {},
    ],
  ];
  test.each(cases)('mode %s with the README inputs and every default: no problem', (_, given, env, event) => {
    // As on the runner: the workspace is the working directory, and the README's stack-file is relative.
    const readme: Record<string, string> = { ...step.inputs, 'stack-file': 'stack.yml' };
    delete readme.context;
    const withInputs: Record<string, string> = { ...runnerDefaults, ...readme, ...given };
    const cwd = process.cwd();
    process.chdir(step.dir);
    try {
      const config = readConfig((name) => withInputs[name] ?? '', env, event);
      expect(config.ssh.jump).toBeUndefined();
      expect(config.mode).toBe(withInputs.mode);
    } finally {
      process.chdir(cwd);
    }
  });

  test('teardown of a pull request whose number is past the preview ports: preview-port-base does not apply', () => {
    const withInputs: Record<string, string> = { ...runnerDefaults, ...step.inputs, mode: 'teardown' };
    const config = readConfig(
      (name) => withInputs[name] ?? '',
      { GITHUB_SHA: SHA },
      {
        pull_request: { number: 50000, head: { sha: SHA } },
      },
    );
    expect(config.preview?.number).toBe(50000);
    expect(config.stackName).toBe('todobackend-pr-50000');
  });

  test.each(['deploy', 'preview', 'teardown', 'promote'])(
    'mode %s: an input the run cannot do without is required: true, or its description says when it is required',
    (mode) => {
      const spec = action.inputs as Record<string, { required?: boolean; description: string }>;
      const given = Object.fromEntries(
        Object.keys(spec)
          .filter((name) => spec[name].required)
          .map((name) => [name, step.inputs[name]]),
      );
      const withInputs: Record<string, string> = { ...runnerDefaults, ...given, mode, 'pr-number': '7' };
      let problems: string[] = [];
      const cwd = process.cwd();
      process.chdir(step.dir);
      try {
        readConfig((name) => withInputs[name] ?? '', { GITHUB_SHA: SHA, GITHUB_REF: 'refs/tags/v1.2.3' });
      } catch (e) {
        problems = (e as InputError).problems ?? [];
      } finally {
        process.chdir(cwd);
      }
      const needed = problems
        .map((p) => /^([a-z-]+) is required/.exec(p)?.[1])
        .filter((n) => n !== undefined);
      for (const name of needed)
        expect(`${name}: ${spec[name].required ? 'required' : spec[name].description}`).toMatch(
          /^[a-z-]+: (required$|Required )/,
        );
      expect(problems.filter((p) => !/^[a-z-]+ is required/.test(p))).toEqual([]);
    },
  );
});

describe('inputs that would pass and fail late', () => {
  test("a preview's image-tag and extra-tags carry its pull request's prefix", () => {
    const preview = { mode: 'preview', 'pr-number': '3', 'app-url': 'http://x:{port}' };
    expect(problems({ ...preview, 'image-tag': 'latest', 'extra-tags': 'pr-3-extra, main' })).toEqual([
      'image-tag or extra-tags "latest" must start with pr-3- in mode preview (e.g. pr-3-latest)',
      'image-tag or extra-tags "main" must start with pr-3- in mode preview (e.g. pr-3-main)',
    ]);
    expect(read({ ...preview, 'image-tag': 'pr-3-mine' }).tag).toBe('pr-3-mine');
  });
});
