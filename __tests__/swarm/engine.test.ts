import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Engine } from '../../src/swarm/engine.js';

// A stand-in Docker engine on a Unix socket, as the tunnel's local end would be.
const requests: string[] = [];
const bodies: unknown[] = [];
let server: http.Server;
let socketPath: string;
const NO_LEADER = 'rpc error: code = Unknown desc = The swarm does not have a leader.';
/** While true, the stand-in answers /nodes as a manager of a swarm without a leader does. */
let leaderless = false;

function frame(stream: 1 | 2, text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

beforeAll(async () => {
  socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'engine-')), 'docker.sock');
  server = http.createServer((req, res) => {
    requests.push(decodeURIComponent(req.url ?? ''));
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v1.41/_ping') return res.end('OK');
    if (url.pathname === '/v1.41/tasks') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify([{ ID: 't1' }]));
    }
    if (url.pathname === '/v1.41/services/app') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ ID: 's1', Spec: { Name: 'stack_app' } }));
    }
    if (url.pathname === '/v1.41/info') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ SystemTime: '2030-05-06T07:08:09.123456789+02:00' }));
    }
    if (url.pathname === '/v1.41/configs/c1') {
      res.setHeader('content-type', 'application/json');
      return res.end(
        JSON.stringify({ ID: 'c1', Version: { Index: 7 }, Spec: { Name: 'lock', Data: 'aGkK' } }),
      );
    }
    if (url.pathname === '/v1.41/configs/c1/update' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.end();
      });
      return;
    }
    if (url.pathname === '/v1.41/nodes') {
      res.setHeader('content-type', 'application/json');
      if (leaderless) {
        res.statusCode = 500;
        return res.end(JSON.stringify({ message: NO_LEADER }));
      }
      return res.end(JSON.stringify([{ ID: 'n1' }]));
    }
    if (url.pathname === '/v1.41/tasks/t1/logs') {
      res.setHeader('content-type', 'application/vnd.docker.raw-stream');
      res.write(frame(1, 'migrate: connecting\n'));
      return res.end(frame(2, 'migrate: ERROR: no table\n'));
    }
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ message: 'service missing not found' }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Engine', () => {
  test('speaks API 1.41 and sends filters as JSON', async () => {
    const engine = new Engine(socketPath);
    expect(await engine.listTasks({ service: ['a', 'b'] })).toEqual([{ ID: 't1' }]);
    expect(requests).toContain('/v1.41/tasks?filters={"service":["a","b"]}');
    expect(engine.calls).toBe(1);
  });

  test('a fork counts its own calls and adds them to its parent', async () => {
    const engine = new Engine(socketPath);
    const [a, b] = [engine.fork(), engine.fork()];
    await Promise.all([a.listTasks({}), a.listTasks({}), b.listTasks({})]);
    expect([a.calls, b.calls, engine.calls]).toEqual([2, 1, 3]);
  });

  test('inspectService: a missing service is undefined, not an error', async () => {
    const engine = new Engine(socketPath);
    expect((await engine.inspectService('app'))?.ID).toBe('s1');
    expect(await engine.inspectService('missing')).toBeUndefined();
  });

  test('taskLogs demultiplexes stdout and stderr', async () => {
    const logs = await new Engine(socketPath).taskLogs('t1', 5);
    expect(logs).toBe('migrate: connecting\nmigrate: ERROR: no table\n');
    expect(requests.some((r) => r.startsWith('/v1.41/tasks/t1/logs?') && r.includes('tail=5'))).toBe(true);
  });

  test('systemTime: the manager clock, from GET /info', async () => {
    expect(await new Engine(socketPath).systemTime()).toBe(Date.parse('2030-05-06T05:08:09.123Z'));
  });

  test('inspectObject and updateLabels: the spec sent back with new labels, at its version', async () => {
    const engine = new Engine(socketPath);
    const config = await engine.inspectObject('configs', 'c1');
    expect(config?.Version?.Index).toBe(7);
    expect(await engine.inspectObject('configs', 'gone')).toBeUndefined();
    expect(await engine.updateLabels('configs', config!, { renewals: '1' })).toBe(true);
    expect(requests).toContain('/v1.41/configs/c1/update?version=7');
    expect(bodies).toEqual([{ Name: 'lock', Data: 'aGkK', Labels: { renewals: '1' } }]);
    expect(await engine.updateLabels('configs', { ...config!, ID: 'gone' }, {})).toBe(false);
  });
});

describe('Engine through a link that can move to another manager', () => {
  test('a "no leader" answer has the link move, and the call is made again through the next manager', async () => {
    leaderless = true;
    const told: string[] = [];
    const link = {
      ready: async () => undefined,
      lost: async (why: string) => {
        told.push(why);
        leaderless = false; // the next manager the link found serves the swarm
      },
    };
    try {
      expect(await new Engine(socketPath, link).listNodes()).toEqual([{ ID: 'n1' }]);
      expect(told).toEqual([expect.stringMatching(/^the swarm has no leader: it has lost its quorum/)]);
    } finally {
      leaderless = false;
    }
  });

  test("the link giving up is the call's error; without a link the answer is", async () => {
    leaderless = true;
    try {
      const link = {
        ready: async () => undefined,
        lost: async () => {
          throw new Error('no manager of ssh-host could be used');
        },
      };
      await expect(new Engine(socketPath, link).listNodes()).rejects.toThrow(
        'no manager of ssh-host could be used',
      );
      await expect(new Engine(socketPath).listNodes()).rejects.toThrow(/does not have a leader/);
    } finally {
      leaderless = false;
    }
  });
});
