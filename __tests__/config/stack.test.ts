import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { stackVariables } from '../../src/config/stack.js';
import { configStep, SHA } from '../helpers/config.js';
import { STACK_YML } from '../helpers/step.js';

// What config/stack.ts decides, read through readConfig as a run reads it: the stack's name, its files,
// the variables they get (env-file, stack-env and the action's own), its secrets and a preview's allowance.
const step = configStep('stack-');
const { read, problems } = step;

describe('stack-name, stack-file and stack-env: one problem each', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['bad stack name', { 'stack-name': '-todo' }, /^stack-name "-todo" is not valid/],
    [
      'missing stack file',
      { 'stack-file': '/nope/stack.yml' },
      /^stack-file "\/nope\/stack.yml" does not exist/,
    ],
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
});

describe('stack-secrets and preview-allow: one problem each', () => {
  test.each<[string, Record<string, string>, RegExp]>([
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
      'a preview-allow port written otherwise than in decimal digits',
      { mode: 'preview', 'pr-number': '7', 'preview-allow': 'port:0x50' },
      /^preview-allow: "port:0x50": a port is a number from 1 to 65535$/,
    ],
    [
      'a preview-allow port past 65535',
      { mode: 'preview', 'pr-number': '7', 'preview-allow': 'port:65536' },
      /^preview-allow: "port:65536": a port is a number from 1 to 65535$/,
    ],
    [
      'a preview-allow entry of no known kind',
      { mode: 'preview', 'pr-number': '7', 'preview-allow': 'everything' },
      /^preview-allow: "everything" is not one of bind:\/HOST\/PATH, network:NAME, volume:NAME, secret:NAME, config:NAME, repository:NAME, option:KEY, port:NUMBER or label:PREFIX/,
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(problems(overrides)).toEqual([expect.stringMatching(expected)]);
  });
});

describe('the variables the stack file gets', () => {
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
    const env = path.join(step.dir, 'deploy.env');
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
    expect(problems({ 'env-file': path.join(step.dir, 'missing.env') })).toEqual([
      `env-file "${path.join(step.dir, 'missing.env')}" could not be read (ENOENT)`,
    ]);
  });

  test("version-variable must be a variable name, and is then the action's own", () => {
    expect(problems({ 'version-variable': 'app-version' })).toEqual([
      'version-variable "app-version" is not a variable name',
    ]);
    const c = read({ 'version-variable': 'RELEASE', 'stack-env': 'APP_VERSION=mine' });
    expect(c.versionVariable).toBe('RELEASE');
    expect(c.stackEnv).toEqual({ APP_VERSION: 'mine' });
    expect(problems({ 'version-variable': 'RELEASE', 'stack-env': 'RELEASE=mine' })).toEqual([
      'stack-env: RELEASE is set by the action itself; remove it',
    ]);
  });
});

describe('nothing in stack-env steers docker, nor sets what the action sets', () => {
  test.each([
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
    [{ 'stack-env': 'ECR_IMAGE=x/y:z' }, 'stack-env: ECR_IMAGE is set by the action itself; remove it'],
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
});

describe('stackVariables', () => {
  test("the stack file's variables: ECR_IMAGE is ecr-repository's whole reference", () => {
    const c = read({ 'stack-env': 'DOMAIN=x' });
    expect(stackVariables(c, 'r.example', { SECRET_KEY_SECRET: 's' })).toEqual({
      DOMAIN: 'x',
      STACK_NAME: 'todobackend',
      ECR_REGISTRY: 'r.example',
      ECR_IMAGE: `r.example/docker-in-aws/todobackend:${SHA.slice(0, 7)}`,
      APP_VERSION: SHA.slice(0, 7),
      SECRET_KEY_SECRET: 's',
    });
  });

  test('in a preview: PR_NUMBER and PREVIEW_PORT too, and the tag under the version variable', () => {
    const preview = { number: 7, port: 20007 };
    expect(
      stackVariables(
        {
          stackEnv: { DOMAIN: 'x' },
          stackName: 'todobackend-pr-7',
          versionVariable: 'RELEASE',
          repository: 'todobackend',
          tag: 'pr-7-0123456',
          preview,
        },
        'r.example',
        {},
      ),
    ).toEqual({
      DOMAIN: 'x',
      STACK_NAME: 'todobackend-pr-7',
      PR_NUMBER: '7',
      PREVIEW_PORT: '20007',
      ECR_REGISTRY: 'r.example',
      ECR_IMAGE: 'r.example/todobackend:pr-7-0123456',
      RELEASE: 'pr-7-0123456',
    });
  });
});

describe('stack-secrets', () => {
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

describe('preview-allow', () => {
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
    fs.symlinkSync(path.join(outside, 'x.env'), path.join(step.dir, 'linked.env'));
    expect(
      problems({
        ...preview,
        'stack-file': path.join(outside, 'stack.yml'),
        'env-file': path.join(step.dir, 'linked.env'),
      }),
    ).toEqual([
      `env-file "${path.join(step.dir, 'linked.env')}" in a preview: the runner reads it, which is outside the workspace; keep it in the repository`,
      `stack-file "${path.join(outside, 'stack.yml')}" in a preview: the runner reads it, which is outside the workspace`,
    ]);
    // Production's stack is the repository's own: the same files deploy in mode deploy.
    expect(
      read({ 'stack-file': path.join(outside, 'stack.yml'), 'env-file': path.join(step.dir, 'linked.env') })
        .stackEnv,
    ).toEqual({
      A: '1',
    });
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
});
