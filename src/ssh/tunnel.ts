import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import * as core from '@actions/core';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { fingerprint, hostKeyAllowed, type HostKeyPin } from './hostkey.js';
import type { SshConfig } from '../config/index.js';
import type { EngineGet } from '../swarm/manager.js';

export interface Tunnel {
  /** The local end: a Unix socket in a private directory, forwarded to the manager's Docker socket. */
  socketPath: string;
  /** DOCKER_HOST value for the local end. */
  dockerHost: string;
  /** The manager of ssh-host the connection is to (it may change at a reconnect). */
  host(): string;
  /** Resolves when the SSH connection is up (at once, or after a reconnect); rejects once it was given up. */
  ready(): Promise<void>;
  /**
   * The manager asked at askedAt (ms, Date.now()) cannot serve the swarm (why: what it answered): the
   * tunnel reconnects through a manager that can, unless it has done so since. Resolves when it did,
   * as ready() does.
   */
  lost(why: string, askedAt: number): Promise<void>;
  close(): Promise<void>;
}

/** One SSH server on the way: the manager, or the jump host in front of it. */
interface Endpoint {
  host: string;
  port: number;
  user: string;
  hostKey: HostKeyPin;
  /** The input that pins this host's key, for error messages. */
  pinInput: string;
}

const RSA_ALGORITHMS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host key algorithms to ask for: those of the pinned keys, so the server shows one we can check. */
function hostKeyAlgorithms(keyTypes: string[]): string[] | undefined {
  if (keyTypes.length === 0) return undefined;
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? RSA_ALGORITHMS : [t]));
}

function connect(ep: Endpoint, ssh: SshConfig, sock?: Duplex): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: Buffer | undefined;
    let settled = false;
    const serverHostKey = hostKeyAlgorithms(ep.hostKey.keyTypes);
    const config: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      sock,
      username: ep.user,
      privateKey: ssh.privateKey,
      passphrase: ssh.passphrase,
      readyTimeout: 20_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return hostKeyAllowed(ep.hostKey, key);
      },
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as never } } : {}),
    };
    const target = `${ep.user}@${ep.host}:${ep.port}`;
    client.once('ready', () => {
      settled = true;
      // Docker API calls are small request/response exchanges: Nagle's algorithm would hold each one back.
      client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string }) => {
      client.end();
      if (settled) return; // after the handshake, a dropped connection ends in 'close' and a reconnect
      settled = true;
      if (presented && !hostKeyAllowed(ep.hostKey, presented)) {
        // A bare fingerprint leaves the key type to the server's first choice, which may not be the pinned key's.
        const typeHint =
          ep.hostKey.keyTypes.length === 0 && ep.hostKey.fingerprints.length > 0
            ? ` If the fingerprint is of another of its keys, write that key's type before it (e.g. "ecdsa-sha2-nistp256 SHA256:...").`
            : '';
        reject(
          new Error(
            `${ep.pinInput}: ${ep.host} presented host key ${fingerprint(presented)}, which is not the pinned key; ` +
              `connection refused before authentication. If the host was replaced, update ${ep.pinInput} (ssh-keyscan).${typeHint}`,
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          new Error(
            `ssh-private-key: ${target} did not accept the key (is its public key in authorized_keys for ${ep.user}?)`,
          ),
        );
      } else if (!presented && serverHostKey && /no matching/i.test(err.message)) {
        reject(
          new Error(
            `${ep.pinInput}: ${ep.host} offers no host key of the pinned type(s) ${ep.hostKey.keyTypes.join(', ')}`,
          ),
        );
      } else {
        reject(new Error(`SSH connection to ${target} failed: ${err.message}`));
      }
    });
    client.connect(config);
  });
}

/** One manager of ssh-host, through the jump host when there is one; both host keys pinned. */
async function connectToManager(ssh: SshConfig, manager: SshConfig['managers'][number]): Promise<Client> {
  const target: Endpoint = { ...manager, port: ssh.port, user: ssh.user, pinInput: 'ssh-known-hosts' };
  if (!ssh.jump) return connect(target, ssh);
  const jump = await connect({ ...ssh.jump, pinInput: 'ssh-jump-known-hosts' }, ssh);
  try {
    const stream = await new Promise<Duplex>((resolve, reject) =>
      jump.forwardOut('127.0.0.1', 0, manager.host, ssh.port, (err, s) =>
        err
          ? reject(
              new Error(
                `jump host ${ssh.jump!.host} could not reach ${manager.host}:${ssh.port}: ${err.message}`,
              ),
            )
          : resolve(s),
      ),
    );
    const client = await connect(target, ssh, stream);
    client.once('close', () => jump.end());
    jump.once('close', () => client.end());
    return client;
  } catch (e) {
    jump.end();
    throw e;
  }
}

/** Whether a manager that answered over SSH is one to use: resolves, or rejects saying why not. */
export type Admit = (get: EngineGet, host: string) => Promise<void>;

/** How long a manager's engine may take to answer the check (a wedged dockerd must not hold the run). */
const REMOTE_GET_MS = 20_000;

/** An HTTP GET on the remote Docker socket, through one SSH channel. */
function remoteGet(client: Client, socket: string): EngineGet {
  return (urlPath) =>
    new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socket, (err, channel) => {
        if (err) return reject(err);
        const timer = setTimeout(() => {
          reject(new Error(`no answer to GET ${urlPath} within ${REMOTE_GET_MS / 1000} s`));
          channel.close();
        }, REMOTE_GET_MS);
        const chunks: Buffer[] = [];
        channel.on('data', (c: Buffer) => chunks.push(c));
        channel.on('error', reject);
        channel.on('close', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? NaN);
          if (Number.isNaN(status)) return reject(new Error('no HTTP answer'));
          resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
        });
        // HTTP/1.0: the engine closes the connection after its answer, which is not chunked then.
        channel.end(`GET ${urlPath} HTTP/1.0\r\nHost: docker\r\n\r\n`);
      });
    });
}

/**
 * The first manager of ssh-host that answers and that admit accepts. Each one passed over is told
 * (a warning by default); when none is left, the error names every manager's reason (one manager: its own error).
 */
async function connectToSwarm(
  ssh: SshConfig,
  admit: Admit | undefined,
  passOver: (message: string) => void = core.warning,
): Promise<{ client: Client; host: string }> {
  const reasons: string[] = [];
  for (const [i, manager] of ssh.managers.entries()) {
    try {
      const client = await connectToManager(ssh, manager);
      try {
        await admit?.(remoteGet(client, ssh.remoteSocket), manager.host);
      } catch (e) {
        client.end();
        throw e;
      }
      return { client, host: manager.host };
    } catch (e) {
      if (ssh.managers.length === 1) throw e;
      reasons.push(`${manager.host}: ${(e as Error).message}`);
      if (i < ssh.managers.length - 1)
        passOver(`Passing over manager ${manager.host}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no manager in ssh-host could be used: ${reasons.join('; ')}`);
}

/**
 * Pipes a local connection through its SSH channel. The local end is half-open, so the channel stays
 * piped until the server's EOF has been read, and ssh2 then closes the channel at once. Had the local
 * end closed first, the channel would never read that EOF and would wait for the server's CLOSE,
 * which sshd (Nagle's algorithm on, as for any connection without a terminal) holds, with every packet
 * behind it such as the next channel's confirmation, until this side's delayed ACK 40 ms later.
 */
function forward(local: net.Socket, remote: ClientChannel): void {
  if (local.destroyed) return void remote.close();
  remote.on('error', () => local.destroy());
  local.once('close', (hadError) => hadError && remote.close());
  local.pipe(remote).pipe(local);
}

/** The local end of a tunnel served in dir, and its DOCKER_HOST value (known before the tunnel opens). */
const tunnelSocket = (dir: string) => path.join(dir, 'docker.sock');
export const tunnelDockerHost = (dir: string) => `unix://${tunnelSocket(dir)}`;

/**
 * Opens the SSH connection to the first manager of ssh-host that answers and that admit accepts (host
 * keys pinned, keepalive on) and serves a local Unix socket in `dir` (0700) whose every connection is
 * forwarded to the remote Docker socket. The manager is given up when the SSH connection drops, when
 * its Docker socket stops taking connections (its engine died), or when its engine says the swarm
 * cannot answer through it (see Tunnel.lost); the tunnel then reconnects with backoff, to the first
 * manager that will do again, and connections made meanwhile wait for it. After ssh.reconnectTimeout
 * seconds without success it gives up, and they fail with the reason.
 */
export async function openTunnel(ssh: SshConfig, dir: string, admit?: Admit): Promise<Tunnel> {
  let closed = false;
  const first = await connectToSwarm(ssh, admit);
  let host = first.host;
  /** The connection in use, and since when; undefined while the tunnel reconnects. */
  let live: Client | undefined;
  let liveSince = Date.now();
  let current: Promise<Client> = Promise.resolve(first.client);

  const reconnect = async (why: string): Promise<Client> => {
    const deadline = Date.now() + ssh.reconnectTimeout * 1000;
    let delay = 250;
    for (;;) {
      try {
        // Each try of the backoff: the managers passed over go to the debug log, the last reasons to the error.
        const next = await connectToSwarm(ssh, admit, core.debug);
        core.info(`Reconnected through manager ${next.host}`);
        host = next.host;
        return watch(next.client);
      } catch (e) {
        if (closed) throw new Error('the tunnel was closed', { cause: e });
        if (Date.now() + delay > deadline) {
          throw new Error(
            `${why}, and no manager of ssh-host could be used within ${ssh.reconnectTimeout} s ` +
              `(ssh-reconnect-timeout): ${(e as Error).message}`,
            { cause: e },
          );
        }
        await sleep(delay);
        if (closed) throw new Error('the tunnel was closed', { cause: e });
        delay = Math.min(delay * 2, 4000);
      }
    }
  };
  /** Gives up the connection in use (once, however many callers saw it fail) and reconnects. */
  const giveUp = (client: Client, why: string): void => {
    if (closed || client !== live) return;
    live = undefined;
    core.warning(`${why}; reconnecting through the managers of ssh-host (up to ${ssh.reconnectTimeout} s)`);
    current = reconnect(why);
    current.catch(() => undefined);
    client.end();
  };
  const watch = (client: Client): Client => {
    live = client;
    liveSince = Date.now();
    client.once('close', () => giveUp(client, `SSH connection to ${host} lost`));
    return client;
  };
  watch(first.client);

  const socketPath = tunnelSocket(dir);
  fs.rmSync(socketPath, { force: true });
  const sockets = new Set<net.Socket>();
  // Half-open: a client that has sent all it will (EOF) still gets the rest of the answer.
  const server = net.createServer({ allowHalfOpen: true }, (local) => {
    sockets.add(local);
    local.on('close', () => sockets.delete(local));
    local.on('error', () => local.destroy());
    const refused = (client: Client, err: Error) => {
      giveUp(client, `The Docker engine on ${host} does not take connections (${err.message})`);
      local.destroy();
    };
    current.then(
      (client) => {
        try {
          client.openssh_forwardOutStreamLocal(ssh.remoteSocket, (err, remote) =>
            err ? refused(client, err) : forward(local, remote),
          );
        } catch (e) {
          // ssh2 throws "Not connected" at once while the connection is closing.
          refused(client, e as Error);
        }
      },
      () => local.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    socketPath,
    dockerHost: tunnelDockerHost(dir),
    host: () => host,
    ready: () => current.then(() => undefined),
    lost: (why, askedAt) => {
      // An answer of a manager given up already says nothing of the one in use now.
      if (live && liveSince <= askedAt) giveUp(live, `Manager ${host} cannot serve the swarm: ${why}`);
      return current.then(() => undefined);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      (await current.catch(() => undefined))?.end();
      fs.rmSync(socketPath, { force: true });
    },
  };
}
