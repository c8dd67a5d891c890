// The action's tunnel against the sandbox's OpenSSH sshd, for what the deploy scenarios do not reach:
// a client that half-closes its connection (as the docker CLI does on a hijacked stream once its stdin
// ends) still gets the whole answer.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parseHostKeyPin } from '../src/ssh/hostkey.js';
import { openTunnel, type Tunnel } from '../src/ssh/tunnel.js';
import { sb } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunnel-e2e-'));
const remoteSocket = path.join(dir, 'remote.sock');
let remote: net.Server;
let tunnel: Tunnel;

beforeAll(async () => {
  // Answers once the client has sent all it will, like a server reading a request body to its end.
  remote = net.createServer({ allowHalfOpen: true }, (conn) => {
    let question = '';
    conn.on('data', (d) => (question += d.toString()));
    conn.on('end', () => setTimeout(() => conn.end(`answer to ${question}`), 200));
  });
  await new Promise<void>((resolve) => remote.listen(remoteSocket, resolve));
  const port = Number(sb.SSH_PORT);
  fs.mkdirSync(path.join(dir, 'local'), { mode: 0o700 });
  tunnel = await openTunnel(
    {
      managers: [
        {
          host: '127.0.0.1',
          hostKey: parseHostKeyPin(fs.readFileSync(sb.SSH_KNOWN_HOSTS, 'utf8'), '127.0.0.1', port),
        },
      ],
      port,
      user: 'root',
      privateKey: fs.readFileSync(sb.SSH_KEY, 'utf8'),
      remoteSocket,
      reconnectTimeout: 5,
    },
    path.join(dir, 'local'),
  );
});

afterAll(async () => {
  await tunnel.close();
  remote.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a client that half-closes gets the whole answer through sshd', async () => {
  const client = net.connect({ path: tunnel.socketPath, allowHalfOpen: true });
  client.end('question');
  let answer = '';
  client.on('data', (d) => (answer += d.toString()));
  await new Promise((resolve) => client.on('end', resolve));

  expect(answer).toBe('answer to question');
});
