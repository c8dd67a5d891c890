import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';

const send = jest.fn<() => Promise<unknown>>();
jest.unstable_mockModule('@aws-sdk/client-ecr', () => ({
  ECRClient: jest.fn().mockImplementation(() => ({ send, destroy: () => undefined })),
  GetAuthorizationTokenCommand: jest.fn(),
  BatchGetImageCommand: jest.fn(),
  PutImageCommand: jest.fn(),
  ListImagesCommand: jest.fn(),
  BatchDeleteImageCommand: jest.fn(),
  DescribeRepositoriesCommand: jest.fn(),
}));
jest.unstable_mockModule('@actions/core', () => ({ setSecret: jest.fn(), info: jest.fn() }));

const { ecrLogin } = await import('../../src/modes/session.js');
const { writeDockerConfig } = await import('../../src/registry/login.js');
const { Secrets } = await import('../../src/report/mask.js');

const PASSWORD = 'pw-s3cr3t';
const basic = (password: string) => Buffer.from(`AWS:${password}`).toString('base64');

/** A registry's /v2/ over plain http: 200 for AWS:PASSWORD, 401 otherwise. */
let server: http.Server;
let registry: string;
const requests: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const ok = req.url === '/v2/' && req.headers.authorization === `Basic ${basic(PASSWORD)}`;
    if (!ok) res.setHeader('www-authenticate', 'Basic realm="registry"');
    res.writeHead(ok ? 200 : 401).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** GetAuthorizationToken answers password for the registry at endpoint. */
function ecrAnswers(password: string, endpoint: string) {
  send.mockResolvedValueOnce({
    authorizationData: [{ authorizationToken: basic(password), proxyEndpoint: endpoint }],
  });
}

/** A run with a private DOCKER_CONFIG and a mocked docker CLI, whose `docker info` shows registryConfig. */
function fakeRun(registryConfig: object = {}) {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-config-'));
  const docker = jest
    .fn<(args: string[], options?: { input?: string }) => Promise<unknown>>()
    .mockResolvedValue({ exitCode: 0, stdout: JSON.stringify(registryConfig), stderr: '' });
  const run = {
    work: { dockerConfig: configDir },
    local: { configDir, run: docker },
    timeline: { phase: (_name: string, fn: () => Promise<unknown>) => fn() },
    secrets: new Secrets(),
  };
  return { configDir, docker, run: run as never };
}

const configFile = (dir: string) => path.join(dir, 'config.json');

describe('ecrLogin', () => {
  test('checks the credentials, masks them for the comment too; config.json (0600) holds only the auths entry; docker gets no password', async () => {
    ecrAnswers(PASSWORD, `http://${registry}`);
    const { configDir, docker, run } = fakeRun();
    const auth = await ecrLogin({ awsRegion: 'us-east-1' } as never, run);
    expect(auth.registry).toBe(registry);
    const { secrets } = run as { secrets: InstanceType<typeof Secrets> };
    expect(secrets.mask(`password ${PASSWORD}, auth ${basic(PASSWORD)}`)).toBe('password ***, auth ***');
    await writeDockerConfig(configDir, auth);
    expect(fs.statSync(configFile(configDir)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(configFile(configDir), 'utf8'))).toEqual({
      auths: { [registry]: { auth: basic(PASSWORD) } },
      cliPluginsExtraDirs: [path.join(os.homedir(), '.docker', 'cli-plugins')],
    });
    expect(requests.at(-1)).toBe('GET /v2/');
    for (const [args, options] of docker.mock.calls) {
      expect(args).not.toContain('login');
      expect(JSON.stringify([args, options])).not.toContain(PASSWORD);
    }
  });

  test('credentials the registry refuses (401): a clear error naming it, without the secret; nothing written', async () => {
    const wrong = 'wrong-password-123';
    ecrAnswers(wrong, `http://${registry}`);
    const { run } = fakeRun();
    const error = await ecrLogin({} as never, run).then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(error.message).toContain(`ECR rejected the registry credentials for ${registry} (401 from /v2/)`);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(basic(wrong));
  });

  test.each([
    ['in its insecure CIDRs (127.0.0.0/8 by default)', { InsecureRegistryCIDRs: ['127.0.0.0/8'] }],
    ['by name (--insecure-registry host:port)', () => ({ IndexConfigs: { [registry]: { Secure: false } } })],
  ])(
    'https endpoint of a registry the engine counts insecure %s: tried over http, as docker does',
    async (_, config) => {
      ecrAnswers(PASSWORD, `https://${registry}`);
      const { docker, run } = fakeRun(typeof config === 'function' ? config() : config);
      await expect(ecrLogin({} as never, run)).resolves.toMatchObject({ registry });
      expect(docker.mock.calls.map(([args]) => args[0])).toEqual(['info']);
    },
  );

  test('a registry the engine counts secure is never tried over plain http: the error names it', async () => {
    ecrAnswers(PASSWORD, `https://${registry}`);
    const { run } = fakeRun({
      InsecureRegistryCIDRs: ['127.0.0.0/8'],
      IndexConfigs: { [registry]: { Secure: true } },
    });
    const before = requests.length;
    await expect(ecrLogin({} as never, run)).rejects.toThrow(`could not reach the registry ${registry}`);
    expect(requests.length).toBe(before);
  });

  test('a registry that does not answer: the error names it, without the secret', async () => {
    ecrAnswers(PASSWORD, 'http://127.0.0.1:9');
    const { run } = fakeRun();
    const error = await ecrLogin({} as never, run).then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(error.message).toContain('could not reach the registry 127.0.0.1:9');
    expect(error.message).not.toContain(PASSWORD);
  });
});
