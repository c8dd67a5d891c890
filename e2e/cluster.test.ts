// A manager and two workers, each dockerd in its own network namespace: what only a cluster shows.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { expectTidy, inputs, randomSha, repoRoot, run, sb } from './helpers.js';
import { sandbox } from './sandbox-env.mjs';

jest.setTimeout(300_000);

const cluster = () => sandbox(path.join(sb.SANDBOX_DIR, 'cluster'));
/** The fixture deployed to the cluster's manager, through the bastion. */
const clusterInputs = (c: Record<string, string>, overrides: Record<string, string> = {}) =>
  inputs({
    'ssh-host': c.CLUSTER_SSH_HOST,
    'ssh-port': '22',
    'ssh-known-hosts': fs.readFileSync(c.CLUSTER_KNOWN_HOSTS, 'utf8'),
    'ssh-jump-host': c.CLUSTER_JUMP_HOST,
    'ssh-jump-known-hosts': fs.readFileSync(c.CLUSTER_JUMP_KNOWN_HOSTS, 'utf8'),
    'remote-docker-socket': c.CLUSTER_MANAGER_SOCKET,
    'stack-file': 'stack-cluster.yml',
    ...overrides,
  });
const clusterSh = (cmd: string): void => {
  execFileSync('bash', [path.join(repoRoot, 'e2e/cluster.sh'), cmd], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 240_000,
  });
};
const node = (i: number, args: string[], env: Record<string, string> = {}) =>
  execFileSync('docker', ['-H', `unix://${sb.SANDBOX_DIR}/cluster/sw${i}/run/docker.sock`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

function connectTo(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

beforeAll(() => clusterSh('up'));
afterAll(() => clusterSh('down'));

describe('three-node swarm', () => {
  test('through a bastion: workers pull the private image with the forwarded credentials; replicas spread; the tunnel reaches only the manager', async () => {
    const c = cluster();
    const [worker2, worker3] = c.CLUSTER_WORKER_IPS.split(' ');
    const r = await run({
      inputs: clusterInputs(c, { 'app-url': `http://${worker2}:8000` }),
      sha: randomSha(),
      env: { AWS_ENDPOINT_URL_ECR: c.CLUSTER_ECR_ENDPOINT },
    });
    expect(r.log).toContain(`SSH tunnel to ${c.CLUSTER_SSH_HOST} ready`);
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({
      migrate: 'complete',
      'tests-failed-count': '0',
      registry: c.CLUSTER_REGISTRY,
    });

    // Both replicas run, one on each worker.
    const nodes = node(1, [
      'service',
      'ps',
      '--filter',
      'desired-state=running',
      '--format',
      '{{.Node}}',
      'todobackend_app',
    ])
      .trim()
      .split('\n')
      .sort();
    expect(nodes).toEqual(['sw2', 'sw3']);
    // Each worker pulled the image by digest, and has no credentials of its own to pull it again.
    const empty = fs.mkdtempSync(path.join(r.dir, 'cfg-'));
    for (const i of [2, 3]) {
      expect(node(i, ['image', 'ls', '--digests', '--format', '{{.Digest}}'])).toContain(r.outputs.digest);
      expect(() => node(i, ['pull', r.outputs.image], { DOCKER_CONFIG: empty })).toThrow(
        /no basic auth credentials|unauthorized/,
      );
    }
    // Both workers serve the app; the db on the manager is reached over the overlay network.
    for (const ip of [worker2, worker3]) expect((await fetch(`http://${ip}:8000/todos`)).status).toBe(200);
    // The manager's sshd refuses everyone but the bastion, and worker sw2 runs none: the run went
    // through the bastion to the manager, and only there.
    for (const ip of [c.CLUSTER_SSH_HOST, worker2]) expect(await connectTo(ip, 22)).toBe('ECONNREFUSED');
    expect(await connectTo(c.CLUSTER_JUMP_HOST, 22)).toBe('connected');

    expectTidy(r);
  });

  test('a wrong bastion host key stops the run before authentication', async () => {
    const c = cluster();
    const otherKey = fs.readFileSync(c.CLUSTER_KNOWN_HOSTS, 'utf8').split(' ').slice(1).join(' ');
    const r = await run({
      inputs: clusterInputs(c, { 'ssh-jump-known-hosts': `${c.CLUSTER_JUMP_HOST} ${otherKey}` }),
      sha: randomSha(),
      env: { AWS_ENDPOINT_URL_ECR: c.CLUSTER_ECR_ENDPOINT },
    });
    expect(r.exitCode).toBe(1);
    expect(r.log).toMatch(
      /ssh-jump-known-hosts: 192\.168\.77\.13 presented host key SHA256:\S+, which is not the pinned key/,
    );
    expectTidy(r);
  });
});
