import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import ssh2 from 'ssh2';
import { parseHostKeyPin } from '../src/ssh/hostkey.js';
import { openTunnel, type Tunnel } from '../src/ssh/tunnel.js';
import { makeKey } from './sshkeys.js';

// An ssh2 server standing in for sshd: each forwarded channel is handed to the running test, which
// decides what the server sends and when. It never sends CHANNEL_CLOSE first, so a channel only
// closes when the tunnel closes it.
type Handler = (channel: ssh2.ServerChannel) => void;
let onChannel: Handler = () => undefined;
let server: ssh2.Server;
let tunnel: Tunnel;

beforeAll(async () => {
  const hostKey = makeKey();
  const clientKey = makeKey();
  server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (conn) => {
    conn.on('authentication', (ctx) =>
      ctx.method === 'publickey' && ctx.key.data.equals(clientKey.blob) ? ctx.accept() : ctx.reject(),
    );
    conn.on('ready', () => conn.on('openssh.streamlocal', (accept) => onChannel(accept())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  tunnel = await openTunnel(
    {
      host: '127.0.0.1',
      port,
      user: 'deploy',
      privateKey: clientKey.privateKey,
      hostKey: parseHostKeyPin(`[127.0.0.1]:${port} ${hostKey.line}`, '127.0.0.1', port),
      remoteSocket: '/var/run/docker.sock',
      reconnectTimeout: 1,
    },
    fs.mkdtempSync(path.join(os.tmpdir(), 'tunnel-')),
  );
});

afterAll(async () => {
  await tunnel.close();
  server.close();
});

/** Resolves with the channel's fate: 'closed' once the tunnel closed it, 'open' if it had not after a second. */
function fate(channel: ssh2.ServerChannel): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), 1000);
    channel.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

describe('openTunnel forwarding', () => {
  test('closes a channel whose client hung up before the server sent EOF, without waiting for the server', async () => {
    let serverSide!: Promise<{ received: string; fate: 'closed' | 'open' }>;
    onChannel = (channel) => {
      serverSide = new Promise((resolve) => {
        let received = '';
        const closed = fate(channel);
        channel.on('data', (d: Buffer) => {
          received += d.toString();
          channel.write('pong');
        });
        channel.on('end', async () => {
          channel.eof();
          resolve({ received, fate: await closed });
        });
      });
    };
    const local = net.connect(tunnel.socketPath);
    local.write('ping');
    const answer = await new Promise((resolve) => local.once('data', (d) => resolve(d.toString())));
    local.destroy();

    expect(answer).toBe('pong');
    expect(await serverSide).toEqual({ received: 'ping', fate: 'closed' });
  });

  test('keeps a channel open while the local side still sends after the server sent EOF', async () => {
    let serverSide!: Promise<string>;
    onChannel = (channel) => {
      channel.eof();
      serverSide = new Promise((resolve) => {
        let received = '';
        channel.on('data', (d: Buffer) => (received += d.toString()));
        channel.on('end', () => resolve(received));
      });
    };
    const local = net.connect({ path: tunnel.socketPath, allowHalfOpen: true });
    local.resume();
    await new Promise((resolve) => local.on('end', resolve));
    // The server has said it will send nothing more; this side has not finished.
    local.write('first ');
    await new Promise((resolve) => setTimeout(resolve, 100));
    local.end('second');

    expect(await serverSide).toBe('first second');
  });

  test('a client that half-closes still gets the whole answer', async () => {
    onChannel = (channel) => {
      let request = '';
      channel.on('data', (d: Buffer) => (request += d.toString()));
      channel.on('end', () => setTimeout(() => channel.end(`answer to ${request}`), 100));
    };
    const local = net.connect({ path: tunnel.socketPath, allowHalfOpen: true });
    local.end('question');
    let answer = '';
    local.on('data', (d) => (answer += d.toString()));
    await new Promise((resolve) => local.on('end', resolve));

    expect(answer).toBe('answer to question');
  });

  test('closes the channel when the local connection is gone', async () => {
    let closed!: Promise<'closed' | 'open'>;
    onChannel = (channel) => {
      closed = fate(channel);
      channel.resume();
      const timer = setInterval(() => channel.write('more\n'), 10);
      channel.on('close', () => clearInterval(timer));
    };
    const local = net.connect(tunnel.socketPath);
    await new Promise((resolve) => local.once('data', resolve));
    local.destroy();

    expect(await closed).toBe('closed');
  });
});
