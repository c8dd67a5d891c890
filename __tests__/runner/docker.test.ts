import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { DockerCli } from '../../src/runner/docker.js';

describe('DockerCli', () => {
  test('every call gets the private DOCKER_CONFIG, and the engine it is aimed at', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-docker-'));
    fs.writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\necho "$DOCKER_CONFIG $DOCKER_HOST $*"\n', {
      mode: 0o755,
    });
    const oldPath = process.env.PATH;
    const oldHost = process.env.DOCKER_HOST;
    process.env.PATH = `${bin}:${oldPath}`;
    process.env.DOCKER_HOST = 'unix:///runner.sock';
    try {
      const local = new DockerCli('/private/config');
      expect((await local.run(['ps'], { silent: true })).stdout).toBe(
        '/private/config unix:///runner.sock ps\n',
      );
      const remote = local.on('unix:///tunnel/docker.sock');
      expect((await remote.run(['stack', 'ls'], { silent: true })).stdout).toBe(
        '/private/config unix:///tunnel/docker.sock stack ls\n',
      );
      expect(remote.env({ APP_VERSION: 'abc' }).APP_VERSION).toBe('abc');
    } finally {
      process.env.PATH = oldPath;
      if (oldHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = oldHost;
    }
  });
});

describe('DockerCli: what a docker child process gets of the environment', () => {
  const runnerEnv = {
    PATH: '/usr/bin',
    HOME: '/home/runner',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HTTPS_PROXY: 'http://proxy:3128',
    no_proxy: 'localhost',
    DOCKER_HOST: 'unix:///runner.sock',
    DOCKER_BUILDKIT: '1',
    'INPUT_SSH-PRIVATE-KEY': '-----BEGIN OPENSSH PRIVATE KEY-----',
    'INPUT_GITHUB-TOKEN': 'ghs_secret',
    ACTIONS_RUNTIME_TOKEN: 'rt_secret',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'idt_secret',
    AWS_SECRET_ACCESS_KEY: 'aws_secret',
    APP_SECRET_KEY: 'stack secret value',
    DOCKER_CONFIG: '/home/runner/.docker',
  };

  test('only the allowed variables, never the inputs, tokens, AWS credentials or secret values', () => {
    const env = new DockerCli('/private/config', undefined, runnerEnv).env();
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      DOCKER_HOST: 'unix:///runner.sock',
      DOCKER_BUILDKIT: '1',
      DOCKER_CONFIG: '/private/config',
    });
  });

  test("the action's DOCKER_* win over a call's own variables", () => {
    const remote = new DockerCli('/private/config', undefined, runnerEnv).on('unix:///tunnel.sock');
    const env = remote.env({
      APP_VERSION: 'abc',
      DOCKER_HOST: 'tcp://elsewhere:2375',
      DOCKER_CONFIG: '/tmp/x',
    });
    expect(env).toMatchObject({
      APP_VERSION: 'abc',
      DOCKER_HOST: 'unix:///tunnel.sock',
      DOCKER_CONFIG: '/private/config',
    });
  });
});
