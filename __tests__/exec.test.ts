import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, jest, test } from '@jest/globals';
import { DockerCli } from '../src/runner/docker.js';
import { CommandError, run } from '../src/runner/exec.js';

describe('run', () => {
  test('captures output and feeds stdin', async () => {
    const r = await run('sh', ['-c', 'cat; echo err >&2'], { input: 'from stdin', silent: true });
    expect(r).toEqual({ stdout: 'from stdin', stderr: 'err\n', exitCode: 0 });
  });

  test('a failure carries the exit code and the last lines of stderr', async () => {
    const failing = run('sh', ['-c', 'echo first >&2; echo "denied: wrong password" >&2; exit 3'], {
      silent: true,
    });
    await expect(failing).rejects.toBeInstanceOf(CommandError);
    await expect(failing).rejects.toThrow('sh -c failed (exit code 3):\nfirst\ndenied: wrong password');
  });

  test('the log shows the command as a shell line that can be pasted back, then its output', async () => {
    const written: string[] = [];
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      await run('printf', ['%s|', 'bats', '--filter', 'a note', "it's", '']);
    } finally {
      write.mockRestore();
    }
    const line = written.join('').split('\n')[0];
    expect(line).toMatch(/^\[command\]\/\S+\/printf '%s\|' bats --filter 'a note' 'it'\\''s' ''$/);
    // Taken back by a shell, the line gives the same words.
    const words = execFileSync('sh', ['-c', `${line.replace(/^\[command\]\S+/, 'printf "<%s>"')}`], {
      encoding: 'utf8',
    });
    expect(words).toBe("<%s|><bats><--filter><a note><it's><>");
    expect(written.join('')).toContain("bats|--filter|a note|it's||");
  });

  test('allowFailure returns the result instead', async () => {
    expect((await run('sh', ['-c', 'exit 4'], { silent: true }, true)).exitCode).toBe(4);
  });
});

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
