// Three managers and a worker (e2e/cluster.sh's managers layout): the faults a swarm of three managers
// is built to survive, struck while the action waits for migrate (which takes 20 s here).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { expectTidy, inputs, randomSha, repoRoot, run, sb, type RunResult } from './helpers.js';
import { sandbox } from './sandbox-env.mjs';

jest.setTimeout(400_000);

const cluster = () => sandbox(path.join(sb.SANDBOX_DIR, 'managers'));
const clusterSh = (...args: string[]): void => {
  execFileSync('bash', [path.join(repoRoot, 'e2e/cluster.sh'), ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 240_000,
  });
};
const MANAGERS = [1, 2, 3];
const address = (i: number) => `192.168.78.1${i}`;
/** docker on node i's own socket (the test's view, not the action's). */
const node = (i: number, args: string[]) =>
  execFileSync('docker', ['-H', `unix://${sb.SANDBOX_DIR}/managers/sm${i}/run/docker.sock`, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
/** The manager that leads the swarm now. */
const leader = (): number => {
  for (const i of MANAGERS) {
    try {
      const line = node(i, ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}'])
        .split('\n')
        .find((l) => l.endsWith(' Leader'));
      if (line) return Number(line.slice(2, 3));
    } catch {
      // this manager does not answer: ask the next
    }
  }
  throw new Error('no manager names a leader');
};

/** The deploy through the managers, the one named first tried first. */
const deploy = (first: number, overrides: Record<string, string>, onLine: (text: string) => void) => {
  const c = cluster();
  const order = [first, ...MANAGERS.filter((i) => i !== first)];
  return run({
    inputs: inputs({
      'ssh-host': order.map(address).join(','),
      'ssh-port': '22',
      'ssh-known-hosts': fs.readFileSync(c.CLUSTER_KNOWN_HOSTS, 'utf8'),
      'remote-docker-socket': c.CLUSTER_MANAGER_SOCKET,
      'stack-file': 'stack-managers.yml',
      'app-url': `http://${c.CLUSTER_WORKER_IPS}:8000`,
      ...overrides,
    }),
    sha: randomSha(),
    env: { AWS_ENDPOINT_URL_ECR: c.CLUSTER_ECR_ENDPOINT },
    onLine,
  });
};
/** Strikes once, as the action starts waiting for migrate. */
const whileMigrating = (strike: () => void) => {
  let struck = false;
  return (text: string) => {
    if (struck || !text.includes('One-shot services: started')) return;
    struck = true;
    strike();
  };
};
const LOCK = 'ecr-swarm-deploy-lock.todobackend';
/** The run held its lock from start to end: taken once, never lost or taken again, then released. */
const expectLockKept = (r: RunResult, on: number) => {
  expect(r.log.match(/Holding the deploy lock/g)).toHaveLength(1);
  expect(r.log).not.toMatch(/deploy lock of stack todobackend is gone|could not renew the deploy lock/);
  expect(node(on, ['config', 'ls', '--format', '{{.Name}}'])).not.toContain(LOCK);
};

beforeAll(() => clusterSh('up', 'managers'));
afterAll(() => clusterSh('down', 'managers'));

describe('a swarm of three managers', () => {
  test("the leader's engine is killed mid-wait: the action moves to another manager once one leads, keeps its lock, and passes", async () => {
    const first = leader();
    const r = await deploy(
      first,
      {},
      whileMigrating(() => clusterSh('kill', 'managers', 'engine', String(first))),
    );
    try {
      expect(r.log).toMatch(
        new RegExp(
          `::warning::The Docker engine on ${address(first).replaceAll('.', '\\.')} does not take connections \\(.*\\); reconnecting through the managers of ssh-host \\(up to 60 s\\)`,
        ),
      );
      const moved = /Reconnected through manager (\S+)/.exec(r.log)?.[1];
      expect(moved).toBeDefined();
      expect(moved).not.toBe(address(first));
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
      expectLockKept(r, Number(moved!.slice(-1)));
      expectTidy(r);
    } finally {
      clusterSh('up', 'managers');
    }
  });

  test('the manager the action is connected to loses its sshd mid-wait: the same, through another manager', async () => {
    const r = await deploy(
      1,
      {},
      whileMigrating(() => clusterSh('kill', 'managers', 'sshd', '1')),
    );
    try {
      expect(r.log).toContain(
        '::warning::SSH connection to 192.168.78.11 lost; reconnecting through the managers of ssh-host (up to 60 s)',
      );
      expect(r.log).toContain('Reconnected through manager 192.168.78.12');
      expect(r.exitCode).toBe(0);
      expect(r.outputs).toMatchObject({ migrate: 'complete', 'tests-failed-count': '0' });
      expectLockKept(r, 2);
      expectTidy(r);
    } finally {
      clusterSh('up', 'managers');
    }
  });

  test('two of three managers lost (no quorum): a clear error within ssh-reconnect-timeout, the lock left to free itself', async () => {
    const [others] = [MANAGERS.filter((i) => i !== 1)];
    const r = await deploy(
      1,
      { 'ssh-reconnect-timeout': '20' },
      whileMigrating(() => others.forEach((i) => clusterSh('kill', 'managers', 'engine', String(i)))),
    );
    try {
      expect(r.exitCode).toBe(1);
      expect(r.log).toMatch(
        /Manager 192\.168\.78\.11 cannot serve the swarm: the swarm has no leader: it has lost its quorum \(half or more of its managers are out of reach\), or is electing one, and no manager of ssh-host could be used within 20 s \(ssh-reconnect-timeout\)/,
      );
      expect(r.log).toMatch(
        /::warning::could not release the deploy lock: .*the next run takes it once it has seen it unrenewed for 80 s/,
      );
      // Swarm answers "no leader" after some 25 s of silence; then the reconnects' 20 s.
      expect(r.mainSeconds).toBeLessThan(120);
      expectTidy(r);
    } finally {
      clusterSh('up', 'managers');
    }
    // Quorum back: the lock is there, as the run said, and is the only thing left of it.
    expect(node(1, ['config', 'ls', '--format', '{{.Name}}'])).toContain(LOCK);
    node(1, ['config', 'rm', LOCK]);
  });
});
