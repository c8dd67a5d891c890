// The runner's registry login: config.json written privately, the credentials checked with /v2/ first.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { REGISTRY_TIMEOUT_MS, type RegistryAuth } from '../../src/registry/ecr.js';
import { basicAuth, checkRegistryAuth, writeDockerConfig } from '../../src/registry/login.js';
import type { DockerCli } from '../../src/runner/docker.js';

/** A registry's /v2/ over plain http: 200 for AWS:right, 500 for AWS:boom, 401 for other credentials. */
let server: http.Server;
let registry: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const right = req.headers.authorization === `Basic ${Buffer.from('AWS:right').toString('base64')}`;
    const broken = req.headers.authorization === `Basic ${Buffer.from('AWS:boom').toString('base64')}`;
    res.writeHead(broken ? 500 : right ? 200 : 401, broken ? 'Oops' : undefined).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const auth = (password: string, over: Partial<RegistryAuth> = {}): RegistryAuth => ({
  registry,
  endpoint: `http://${registry}`,
  username: 'AWS',
  password,
  ...over,
});

/** A docker CLI whose `docker info` shows the engine's registry settings. */
const docker = (registryConfig: object) =>
  ({
    run: jest.fn(async () => ({ exitCode: 0, stdout: JSON.stringify(registryConfig), stderr: '' })),
  }) as unknown as DockerCli;

describe('writeDockerConfig', () => {
  test('config.json, 0600, holds the credentials inline and no credential helper; never overwritten', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-config-'));
    await writeDockerConfig(dir, auth('right'));
    const file = path.join(dir, 'config.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(config.auths).toEqual({ [registry]: { auth: basicAuth(auth('right')) } });
    expect(config).not.toHaveProperty('credsStore');
    await expect(writeDockerConfig(dir, auth('other'))).rejects.toThrow('EEXIST');
  });
});

describe('checkRegistryAuth', () => {
  test('credentials the registry takes', async () => {
    await expect(checkRegistryAuth(docker({}), auth('right'))).resolves.toBeUndefined();
  });

  test('the registry has as long to answer as when ECR is asked for an image', async () => {
    const timeout = jest.spyOn(AbortSignal, 'timeout');
    await checkRegistryAuth(docker({}), auth('right'));
    expect(timeout).toHaveBeenCalledWith(REGISTRY_TIMEOUT_MS);
    timeout.mockRestore();
  });

  test('credentials it refuses (401): the error says what to check, without the password', async () => {
    const error = await checkRegistryAuth(docker({}), auth('wrong-s3cr3t')).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^ECR rejected the registry credentials for 127\.0\.0\.1:\d+ \(401/,
    );
    expect((error as Error).message).not.toContain('s3cr3t');
  });

  test('any other answer is named', async () => {
    await expect(checkRegistryAuth(docker({}), auth('boom'))).rejects.toThrow(
      `the registry ${registry} answered 500 Oops to GET /v2/, not 200`,
    );
  });

  test('https that cannot connect: plain http only for a registry the engine counts insecure', async () => {
    const https = auth('right', { endpoint: `https://${registry}` });
    await expect(
      checkRegistryAuth(docker({ InsecureRegistryCIDRs: ['127.0.0.0/8'] }), https),
    ).resolves.toBeUndefined();
    await expect(
      checkRegistryAuth(
        docker({ IndexConfigs: { [registry]: { Secure: true } }, InsecureRegistryCIDRs: ['127.0.0.0/8'] }),
        https,
      ),
    ).rejects.toThrow(`could not reach the registry ${registry} at https://${registry}`);
  });
});
