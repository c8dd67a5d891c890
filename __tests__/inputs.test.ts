import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import {
  INPUT_DEFAULTS,
  InputError,
  readConfig as readAnyConfig,
  splitArgs,
  type Mode,
  type PreviewConfig,
  type PromoteConfig,
  type TeardownConfig,
} from '../src/config/index.js';

/** Every mode's fields at once, for assertions (each test knows its mode). */
type AnyConfig = Omit<PreviewConfig, 'mode'> &
  Omit<PromoteConfig, 'mode'> &
  Omit<TeardownConfig, 'mode'> & { mode: Mode };
const readConfig = (...args: Parameters<typeof readAnyConfig>) => readAnyConfig(...args) as AnyConfig;
import { makeKey } from './sshkeys.js';
import { STACK_YML, userStep } from './step.js';

let dir: string;
let inputs: Record<string, string>;
const SHA = '0123456789abcdef0123456789abcdef01234567';

beforeAll(() => {
  const collectstatic =
    '  collectstatic:\n    image: x\n    deploy:\n      restart_policy:\n        condition: none\n';
  const step = userStep('inputs-', { stack: STACK_YML + collectstatic });
  dir = step.dir;
  inputs = { ...step.inputs, 'ecr-repository': 'docker-in-aws/todobackend', 'stack-name': 'todobackend' };
});

const read = (
  overrides: Record<string, string> = {},
  env: NodeJS.ProcessEnv = { GITHUB_SHA: SHA },
  event: Record<string, unknown> = {},
) =>
  readConfig((name) => ({ ...inputs, ...overrides })[name] ?? '', { GITHUB_WORKSPACE: dir, ...env }, event);

function problems(overrides: Record<string, string>, env?: NodeJS.ProcessEnv): string[] {
  try {
    read(overrides, env);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

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
      'ssh-known-hosts': `[manager.example.com]:2222 ${inputs['ssh-known-hosts'].split(' ').slice(1).join(' ')}`,
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
    ['missing ssh-host', { 'ssh-host': '' }, /^ssh-host is required/],
    ['bad ssh-port', { 'ssh-port': '70000' }, /^ssh-port must be a TCP port number/],
    ['missing key', { 'ssh-private-key': '' }, /^ssh-private-key is required/],
    ['garbage key', { 'ssh-private-key': 'not a key' }, /^ssh-private-key could not be read/],
    ['missing known hosts', { 'ssh-known-hosts': '' }, /^ssh-known-hosts is required/],
    [
      'malformed known hosts',
      { 'ssh-known-hosts': 'manager.example.com ssh-ed25519' },
      /^ssh-known-hosts line 1 is not a known_hosts line/,
    ],
    [
      'known hosts for another host',
      {
        'ssh-known-hosts':
          'other ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3yfnvh2zFxkq0OIZ5lYtKoEWs0zxfM4V9CXuR+q0Lp',
      },
      /none for manager.example.com/,
    ],
    ['bad stack name', { 'stack-name': '-todo' }, /^stack-name "-todo" is not valid/],
    [
      'missing stack file',
      { 'stack-file': '/nope/stack.yml' },
      /^stack-file "\/nope\/stack.yml" does not exist/,
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
    [
      'bad stack env',
      { 'stack-env': 'NOT A NAME' },
      /^stack-env: "NOT A NAME" is not NAME=VALUE, or NAME alone for the step's environment's value/,
    ],
    [
      "a bare stack-env name the step's environment lacks",
      { 'stack-env': 'EFS_DIR' },
      /^stack-env: EFS_DIR takes its value from the step's environment, which has no EFS_DIR: add "env: EFS_DIR: ..." to the step/,
    ],
    ['missing app-url', { 'app-url': '' }, /^app-url is required when acceptance is on/],
    ['bad app-url', { 'app-url': 'lb.example.com' }, /^app-url "lb.example.com" must be an http/],
    ['unclosed quote', { 'acceptance-command': 'bats "x' }, /^acceptance-command has an unclosed "/],
    [
      'relative socket',
      { 'remote-docker-socket': 'docker.sock' },
      /^remote-docker-socket must be an absolute path/,
    ],
    [
      'a stack file that is not there',
      { 'stack-file': '/nope.yml' },
      /^stack-file "\/nope.yml" does not exist/,
    ],
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

  test('an encrypted key needs its passphrase', () => {
    const encrypted = makeKey('correct horse');
    expect(problems({ 'ssh-private-key': encrypted.privateKey })).toEqual([
      'ssh-private-key is encrypted: set ssh-passphrase',
    ]);
    expect(problems({ 'ssh-private-key': encrypted.privateKey, 'ssh-passphrase': 'wrong' })).toEqual([
      'ssh-private-key is encrypted: ssh-passphrase is wrong',
    ]);
    expect(
      read({ 'ssh-private-key': encrypted.privateKey, 'ssh-passphrase': 'correct horse' }).ssh.passphrase,
    ).toBe('correct horse');
  });

  test('a jump host: its own pinned key, the same key by default for its user', () => {
    const bastion = makeKey();
    const c = read({
      'ssh-jump-host': 'bastion.example.com',
      'ssh-jump-known-hosts': `bastion.example.com ${bastion.line}`,
    });
    expect(c.ssh.jump).toMatchObject({ host: 'bastion.example.com', port: 22, user: 'docker' });
    expect(c.ssh.jump?.hostKey.keys[0]).toEqual(bastion.blob);
    expect(c.ssh.reconnectTimeout).toBe(60);
    expect(problems({ 'ssh-jump-host': 'bastion.example.com' })).toEqual([
      expect.stringMatching(/^ssh-jump-known-hosts is required with ssh-jump-host/),
    ]);
    expect(problems({ 'ssh-jump-user': 'ec2-user' })).toEqual([
      'ssh-jump-user is set but ssh-jump-host is not: set ssh-jump-host, or remove ssh-jump-user',
    ]);
    expect(problems({ 'ssh-jump-host': 'bastion', 'ssh-jump-known-hosts': `other ${bastion.line}` })).toEqual(
      [expect.stringMatching(/^ssh-jump-known-hosts has 1 line\(s\), none for bastion/)],
    );
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
      'a port past 65535',
      { mode: 'preview', 'pr-number': '50000', 'preview-port-base': '20000' },
      /lower preview-port-base/,
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
      'a bad stack-secrets line',
      { 'stack-secrets': 'db password' },
      /^stack-secrets: "db password" is not NAME=ENV_VARIABLE/,
    ],
    [
      'an empty secret variable',
      { 'stack-secrets': 'db_password=DB_PASSWORD' },
      /DB_PASSWORD, which is empty: add "env: DB_PASSWORD:/,
    ],
    [
      'preview-allow outside previews',
      { 'preview-allow': 'port:80' },
      /^preview-allow only applies to mode: preview/,
    ],
    [
      'a preview-allow entry of no known kind',
      { mode: 'preview', 'pr-number': '7', 'preview-allow': 'everything' },
      /^preview-allow: "everything" is not one of bind:\/HOST\/PATH, network:NAME, volume:NAME, secret:NAME, config:NAME, repository:NAME, option:KEY, port:NUMBER or label:PREFIX/,
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(problems(overrides)).toEqual([expect.stringMatching(expected)]);
  });

  test("preview: preview-allow is read into the allowance; the stack file and env-file must be the workspace's", () => {
    const preview = { mode: 'preview', 'pr-number': '7' };
    expect(
      read({
        ...preview,
        'preview-allow': 'bind:/var/run/docker.sock, option:privileged, port:80, label:traefik.',
      }).allow,
    ).toEqual({
      bind: ['/var/run/docker.sock'],
      network: [],
      volume: [],
      secret: [],
      config: [],
      repository: [],
      option: ['privileged'],
      port: [80],
      label: ['traefik.'],
    });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    fs.writeFileSync(path.join(outside, 'stack.yml'), STACK_YML);
    fs.writeFileSync(path.join(outside, 'x.env'), 'A=1\n');
    // A symbolic link in the workspace that leads out of it is outside too.
    fs.symlinkSync(path.join(outside, 'x.env'), path.join(dir, 'linked.env'));
    expect(
      problems({
        ...preview,
        'stack-file': path.join(outside, 'stack.yml'),
        'env-file': path.join(dir, 'linked.env'),
      }),
    ).toEqual([
      `env-file "${path.join(dir, 'linked.env')}" in a preview: the runner reads it, which is outside the workspace; keep it in the repository`,
      `stack-file "${path.join(outside, 'stack.yml')}" in a preview: the runner reads it, which is outside the workspace`,
    ]);
    // Production's stack is the repository's own: the same files deploy in mode deploy.
    expect(
      read({ 'stack-file': path.join(outside, 'stack.yml'), 'env-file': path.join(dir, 'linked.env') })
        .stackEnv,
    ).toEqual({
      A: '1',
    });
  });

  test("stack-env: a bare NAME is the step's environment's value of NAME", () => {
    expect(
      read({ 'stack-env': 'EFS_DIR\nDOMAIN=x' }, { GITHUB_SHA: SHA, EFS_DIR: '/mnt/efs' }).stackEnv,
    ).toEqual({
      EFS_DIR: '/mnt/efs',
      DOMAIN: 'x',
    });
    expect(read({ 'stack-env': 'AWS_SECRET' }, { GITHUB_SHA: SHA, AWS_SECRET: 'v' }).stackEnv).toEqual({
      AWS_SECRET: 'v',
    });
  });

  test('env-file: dotenv variables for the stack file, stack-env winning; its names follow the stack-env rules', () => {
    const env = path.join(dir, 'deploy.env');
    fs.writeFileSync(
      env,
      [
        '# for the stack',
        'export REPLICAS=3',
        'DOMAIN = example.com  # the public one',
        "QUOTED='a # b'",
        'ESCAPED="line\\nnext \\"q\\""',
        'EMPTY=',
      ].join('\n'),
    );
    const c = read({ 'env-file': env, 'stack-env': 'DOMAIN=override.example.com' });
    expect(c.stackEnv).toEqual({
      REPLICAS: '3',
      DOMAIN: 'override.example.com',
      QUOTED: 'a # b',
      ESCAPED: 'line\nnext "q"',
      EMPTY: '',
    });
    fs.writeFileSync(env, 'DOCKER_HOST=tcp://elsewhere:2375\nnot a line\n');
    expect(problems({ 'env-file': env })).toEqual([
      `env-file "${env}" line 2 is not NAME=VALUE`,
      'env-file: DOCKER_HOST would steer the docker CLI, not the stack file; remove it',
    ]);
    expect(problems({ 'env-file': path.join(dir, 'missing.env') })).toEqual([
      `env-file "${path.join(dir, 'missing.env')}" could not be read (ENOENT)`,
    ]);
  });

  test('ssh-host may list several managers, each pinned, tried in order', () => {
    const second = makeKey();
    const c = read({
      'ssh-host': 'manager.example.com, manager2.example.com',
      'ssh-known-hosts': `${inputs['ssh-known-hosts']}\nmanager2.example.com ${second.line}`,
    });
    expect(c.ssh.managers.map((m) => m.host)).toEqual(['manager.example.com', 'manager2.example.com']);
    expect(c.ssh.managers[1].hostKey.keys).toEqual([second.blob]);
    expect(problems({ 'ssh-host': 'manager.example.com\nmanager3.example.com' })).toEqual([
      expect.stringMatching(/^ssh-known-hosts .*manager3\.example\.com/),
    ]);
    expect(problems({ 'ssh-host': 'manager.example.com, manager.example.com' })).toEqual([
      'ssh-host names a manager twice: "manager.example.com, manager.example.com"',
    ]);
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

  test('stack-secrets take their values from the environment', () => {
    const c = read(
      { 'stack-secrets': 'secret_key=APP_SECRET_KEY\n# a comment\ndb_password = DB_PASSWORD' },
      { GITHUB_SHA: SHA, APP_SECRET_KEY: 'k1', DB_PASSWORD: 'line one\nline two' },
    );
    expect(c.stackSecrets).toEqual([
      { name: 'secret_key', env: 'APP_SECRET_KEY', value: 'k1' },
      { name: 'db_password', env: 'DB_PASSWORD', value: 'line one\nline two' },
    ]);
  });

  test('a secret whose versioned Swarm name would pass 64 characters is refused', () => {
    // stack (40) + "_" + name + "_" + 12 hex digits of version
    const stack = 's'.repeat(40);
    const env = { GITHUB_SHA: SHA, V: 'value' };
    expect(
      read({ 'stack-name': stack, 'stack-secrets': `${'n'.repeat(10)}=V` }, env).stackSecrets,
    ).toHaveLength(1);
    expect(problems({ 'stack-name': stack, 'stack-secrets': `${'n'.repeat(11)}=V` }, env)).toEqual([
      `stack-secrets: ${'n'.repeat(11)} is too long for a Swarm secret name with the stack's name: shorten it`,
    ]);
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
    [
      { 'stack-env': 'DOCKER_HOST=tcp://elsewhere:2375' },
      'stack-env: DOCKER_HOST would steer the docker CLI, not the stack file; remove it',
    ],
    [
      { 'stack-env': 'LD_PRELOAD=/tmp/x.so' },
      'stack-env: LD_PRELOAD would steer the docker CLI, not the stack file; remove it',
    ],
    // Where docker takes a relative stack file's folder from, and what steers the Go runtime.
    [
      { 'stack-env': 'PWD=/proc/self/cwd/..' },
      'stack-env: PWD would steer the docker CLI, not the stack file; remove it',
    ],
    [
      { 'stack-env': 'GODEBUG=x=1' },
      'stack-env: GODEBUG would steer the docker CLI, not the stack file; remove it',
    ],
    [{ 'stack-env': 'APP_VERSION=latest' }, 'stack-env: APP_VERSION is set by the action itself; remove it'],
    [
      { 'stack-env': 'SECRET_KEY_SECRET=mine', 'stack-secrets': 'secret_key=APP_SECRET_KEY' },
      'stack-env: SECRET_KEY_SECRET is set by the action itself; remove it',
    ],
  ])('%o is refused', (overrides, message) => {
    expect(problems(overrides, { GITHUB_SHA: SHA, APP_SECRET_KEY: 'value' })).toEqual([message]);
  });

  test("PREVIEW_PORT and PR_NUMBER are the action's only in a preview", () => {
    expect(read({ 'stack-env': 'PREVIEW_PORT=8200' }).stackEnv).toEqual({ PREVIEW_PORT: '8200' });
    expect(
      problems(
        { mode: 'preview', 'pr-number': '3', 'stack-env': 'PREVIEW_PORT=8200', 'app-url': 'http://x:{port}' },
        { GITHUB_SHA: SHA },
      ),
    ).toEqual(['stack-env: PREVIEW_PORT is set by the action itself; remove it']);
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

describe('splitArgs', () => {
  test.each([
    ['bats /app/src/acceptance.bats', ['bats', '/app/src/acceptance.bats']],
    [`  -e "A=x y"  --name 'n'`, ['-e', 'A=x y', '--name', 'n']],
    [`a\\ b "q\\"uote" ''`, ['a b', 'q"uote', '']],
    ['', []],
  ])('%j', (text, words) => {
    expect(splitArgs(text)).toEqual(words);
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
          return { ...inputs, mode, 'pr-number': '3', 'release-tag': 'v1.0.0' }[name] ?? '';
        },
        { GITHUB_SHA: SHA, GITHUB_WORKSPACE: dir },
      );
    }
    // The jump host's port is read only with a jump host (its known hosts are missing here).
    expect(() =>
      readConfig(
        (name) => {
          asked.add(name);
          return { ...inputs, 'ssh-jump-host': 'bastion' }[name] ?? '';
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
    const readme: Record<string, string> = { ...inputs, 'stack-file': 'stack.yml' };
    delete readme.context;
    const withInputs: Record<string, string> = { ...runnerDefaults, ...readme, ...given };
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const config = readConfig((name) => withInputs[name] ?? '', env, event);
      expect(config.ssh.jump).toBeUndefined();
      expect(config.mode).toBe(withInputs.mode);
    } finally {
      process.chdir(cwd);
    }
  });

  test('teardown of a pull request whose number is past the preview ports: preview-port-base does not apply', () => {
    const withInputs: Record<string, string> = { ...runnerDefaults, ...inputs, mode: 'teardown' };
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

  test("the code's fallback for an empty input is action.yml's default", () => {
    const fromFile = Object.fromEntries(
      Object.entries(runnerDefaults).filter(([, value]) => !value.includes('ghs_runner_token')),
    );
    expect(INPUT_DEFAULTS).toEqual(fromFile);
  });
});

describe('inputs that would pass and fail late', () => {
  test.each([
    [
      { 'stack-name': 'my.stack' },
      'stack-name "my.stack" is not valid: letters, digits, _ - (starting with a letter or digit), at most 63 characters',
    ],
    [
      { 'one-shot-services': ' , ' },
      'one-shot-services "," names no service: list your one-shot services, or write none',
    ],
    [
      { 'one-shots-first': 'true', 'one-shot-services': 'none' },
      'one-shots-first: true needs one-shot services: name them in one-shot-services, or remove one-shots-first',
    ],
    [
      { 'stack-secrets': 'db-password=APP_SECRET_KEY\ndb_password=APP_SECRET_KEY' },
      'stack-secrets: db-password and db_password would both be given to the stack file as DB_PASSWORD_SECRET; rename one',
    ],
  ])('%o', (overrides, message) => {
    expect(problems(overrides, { GITHUB_SHA: SHA, APP_SECRET_KEY: 'value' })).toEqual([message]);
  });

  test('one-shots-first is off by default, and on when asked for', () => {
    expect(read({}).oneShotsFirst).toBe(false);
    expect(read({ 'one-shots-first': 'true' }).oneShotsFirst).toBe(true);
  });

  test("a preview's image-tag and extra-tags carry its pull request's prefix", () => {
    const preview = { mode: 'preview', 'pr-number': '3', 'app-url': 'http://x:{port}' };
    expect(problems({ ...preview, 'image-tag': 'latest', 'extra-tags': 'pr-3-extra, main' })).toEqual([
      'image-tag or extra-tags "latest" must start with pr-3- in mode preview (e.g. pr-3-latest)',
      'image-tag or extra-tags "main" must start with pr-3- in mode preview (e.g. pr-3-main)',
    ]);
    expect(read({ ...preview, 'image-tag': 'pr-3-mine' }).tag).toBe('pr-3-mine');
  });
});
