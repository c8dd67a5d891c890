import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import ssh2 from 'ssh2';
import { parseHostKeyPin } from '../../src/ssh/hostkey.js';
import { openTunnel, type Tunnel } from '../../src/ssh/tunnel.js';
import { makeKey } from '../helpers/sshkeys.js';

// An ssh2 server standing in for sshd: each forwarded channel is handed to the running test, which
// decides what the server sends and when. It never sends CHANNEL_CLOSE first, so a channel only
// closes when the tunnel closes it.
type Handler = (channel: ssh2.ServerChannel) => void;
let onChannel: Handler = () => undefined;
/** While true, the server refuses every forwarded channel, as sshd does when the engine's socket is gone. */
let engineDown = false;
let server: ssh2.Server;
let tunnel: Tunnel;
let sshConfig: Parameters<typeof openTunnel>[0];
let hostKeyLine: string;

beforeAll(async () => {
  const hostKey = makeKey();
  hostKeyLine = hostKey.line;
  const clientKey = makeKey();
  server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (conn) => {
    conn.on('authentication', (ctx) =>
      ctx.method === 'publickey' && ctx.key.data.equals(clientKey.blob) ? ctx.accept() : ctx.reject(),
    );
    conn.on('ready', () =>
      conn.on('openssh.streamlocal', (accept, reject) => (engineDown ? reject() : onChannel(accept()))),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  sshConfig = {
    managers: [
      {
        host: '127.0.0.1',
        hostKey: parseHostKeyPin(`[127.0.0.1]:${port} ${hostKey.line}`, '127.0.0.1', port),
      },
    ],
    port,
    user: 'deploy',
    privateKey: clientKey.privateKey,
    remoteSocket: '/var/run/docker.sock',
    reconnectTimeout: 1,
  };
  tunnel = await openTunnel(sshConfig, fs.mkdtempSync(path.join(os.tmpdir(), 'tunnel-')));
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

describe('several managers in ssh-host', () => {
  const pinned = (host: string) => ({
    host,
    hostKey: parseHostKeyPin(`[${host}]:${sshConfig.port} ${hostKeyLine}`, host, sshConfig.port),
  });
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tunnel-'));

  test('the first that answers is used; one whose port is closed is passed over', async () => {
    // 127.0.0.9 is loopback too, but nothing listens there.
    const t = await openTunnel({ ...sshConfig, managers: [pinned('127.0.0.9'), pinned('127.0.0.1')] }, dir());
    try {
      expect(t.host()).toBe('127.0.0.1');
    } finally {
      await t.close();
    }
  });

  test('one that admit refuses is passed over, and admit asks it over the remote socket', async () => {
    onChannel = (channel) =>
      channel.once('data', (request: Buffer) => {
        expect(request.toString()).toBe('GET /info HTTP/1.0\r\nHost: docker\r\n\r\n');
        channel.end('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"answer":42}');
      });
    const asked: string[] = [];
    const admit = async (get: (p: string) => Promise<{ status: number; body: string }>, host: string) => {
      const info = await get('/info');
      asked.push(`${host} ${info.status} ${info.body}`);
      if (host === 'localhost') throw new Error('it is a worker, not a manager');
    };
    const t = await openTunnel(
      { ...sshConfig, managers: [pinned('localhost'), pinned('127.0.0.1')] },
      dir(),
      admit,
    );
    try {
      expect(t.host()).toBe('127.0.0.1');
      expect(asked).toEqual(['localhost 200 {"answer":42}', '127.0.0.1 200 {"answer":42}']);
    } finally {
      await t.close();
    }
  });

  /** Answers each request on a channel as an engine would, with the manager's name. */
  const answer = (name: string) => (channel: ssh2.ServerChannel) =>
    channel.once('data', () => channel.end(`HTTP/1.0 200 OK\r\n\r\n${name}`));
  /** A request through the tunnel's local end: the body of the answer. */
  const ask = (t: Tunnel) =>
    new Promise<string>((resolve, reject) => {
      const c = net.connect(t.socketPath, () => c.end('GET /info HTTP/1.0\r\n\r\n'));
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('close', () =>
        text ? resolve(text.slice(text.indexOf('\r\n\r\n') + 4)) : reject(new Error('cut off')),
      );
      c.on('error', () => undefined);
    });

  /**
   * A tunnel to 127.0.0.1 and localhost, which reach the same server; admit refuses the names listed
   * in `refused` (at first, none).
   */
  const twoManagers = async (reconnectTimeout: number) => {
    const refused: string[] = [];
    const admit = async (_get: unknown, host: string) => {
      if (refused.includes(host)) throw new Error(`${host} will not do`);
    };
    const managers = [pinned('127.0.0.1'), pinned('localhost')];
    return { refused, t: await openTunnel({ ...sshConfig, reconnectTimeout, managers }, dir(), admit) };
  };

  test('a manager whose engine stops taking connections is given up for the next one that will do', async () => {
    const { refused, t } = await twoManagers(5);
    try {
      onChannel = answer('first');
      expect(await ask(t)).toBe('first');
      engineDown = true;
      refused.push('127.0.0.1');
      await expect(ask(t)).rejects.toThrow('cut off');
      engineDown = false;
      await t.ready();
      expect(t.host()).toBe('localhost');
      onChannel = answer('second');
      expect(await ask(t)).toBe('second');
    } finally {
      engineDown = false;
      await t.close();
    }
  });

  test('a connection that is closing (ssh2 throws "Not connected") is given up the same way', async () => {
    const { refused, t } = await twoManagers(5);
    const open = jest.spyOn(ssh2.Client.prototype, 'openssh_forwardOutStreamLocal');
    try {
      refused.push('127.0.0.1');
      open.mockImplementationOnce(() => {
        throw new Error('Not connected');
      });
      await expect(ask(t)).rejects.toThrow('cut off');
      await t.ready();
      expect(t.host()).toBe('localhost');
      onChannel = answer('second');
      expect(await ask(t)).toBe('second');
    } finally {
      open.mockRestore();
      await t.close();
    }
  });

  test('lost(): the tunnel moves to a manager admit accepts, not for a late answer of one it left, and gives up with the reason when none does', async () => {
    const { refused, t } = await twoManagers(2);
    const refuse = (...hosts: string[]) => refused.splice(0, refused.length, ...hosts);
    try {
      refuse('127.0.0.1');
      const askedFirst = Date.now();
      await t.lost('the swarm has no leader', askedFirst);
      expect(t.host()).toBe('localhost');
      // A late answer of the manager given up (asked before the move) leaves the new one be.
      refuse('localhost');
      await t.lost('the swarm has no leader', askedFirst - 1);
      expect(t.host()).toBe('localhost');
      refuse('127.0.0.1', 'localhost');
      await expect(t.lost('the swarm has no leader', Date.now())).rejects.toThrow(
        /^Manager localhost cannot serve the swarm: the swarm has no leader, and no manager of ssh-host could be used within 2 s \(ssh-reconnect-timeout\): no manager in ssh-host could be used: 127\.0\.0\.1: 127\.0\.0\.1 will not do; localhost: localhost will not do$/,
      );
    } finally {
      await t.close();
    }
  });

  test("none will do: the error names each manager's reason", async () => {
    const admit = async () => {
      throw new Error('it is a worker, not a manager');
    };
    await expect(
      openTunnel({ ...sshConfig, managers: [pinned('127.0.0.9'), pinned('127.0.0.1')] }, dir(), admit),
    ).rejects.toThrow(
      /^no manager in ssh-host could be used: 127\.0\.0\.9: SSH connection to deploy@127\.0\.0\.9:\d+ failed: connect ECONNREFUSED .*; 127\.0\.0\.1: it is a worker, not a manager$/,
    );
  });
});
