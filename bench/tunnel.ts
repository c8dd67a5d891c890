// Tunnel benchmark: the action's ssh2 tunnel against OpenSSH's `ssh -N -L sock:sock`, same sshd.
// Short requests: Docker API /_ping on the manager's socket, a new connection each. Bulk: a 64 MB
// answer from a local blob server on a Unix socket, so that the tunnel, not the source, sets the pace.
// Every figure is a ratio against OpenSSH measured in the same round; the median over rounds is reported.
import '../src/ssh/shim.js';
import { sandbox } from '../e2e/sandbox-env.mjs';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseHostKeyPin } from '../src/ssh/hostkey.js';
import { openTunnel } from '../src/ssh/tunnel.js';

const env = sandbox();
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const requests = Number(process.env.BENCH_REQUESTS ?? 200);
const BLOB_BYTES = 64 * 1024 * 1024;
const execFileAsync = promisify(execFile);

function get(socketPath: string, apiPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: apiPath, agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${apiPath}: ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

/** Requests per second, and how many requests stalled (took over 30 ms: a delayed-ACK wait is 40 ms). */
async function requestRate(socket: string): Promise<{ rate: number; stalls: number }> {
  let total = 0;
  let stalls = 0;
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    await get(socket, '/v1.41/_ping');
    const ms = performance.now() - start;
    total += ms;
    if (ms > 30) stalls++;
  }
  return { rate: (requests * 1000) / total, stalls };
}

/** Bulk download by curl, a process of its own like the docker CLI, so this process only runs the tunnel. */
async function bulkRate(socket: string): Promise<number> {
  const { stdout } = await execFileAsync('curl', [
    '-sf',
    '--unix-socket',
    socket,
    'http://localhost/blob',
    '-o',
    '/dev/null',
    '-w',
    '%{size_download} %{time_total}',
  ]);
  const [bytes, seconds] = stdout.split(' ').map(Number);
  if (bytes !== BLOB_BYTES) throw new Error(`got ${bytes} of ${BLOB_BYTES} bytes`);
  return bytes / 1e6 / seconds;
}

/**
 * Serves BLOB_BYTES on GET /blob from a Unix socket, in a process of its own (as the remote end
 * would be), so it does not share this process's event loop with the tunnel being measured.
 */
async function blobServer(socketPath: string): Promise<{ close: () => void }> {
  const code = `
    const http = require('http');
    const chunk = Buffer.alloc(256 * 1024, 7);
    http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': ${BLOB_BYTES} });
      let sent = 0;
      const pump = () => {
        while (sent < ${BLOB_BYTES}) { sent += chunk.length; if (!res.write(chunk)) return void res.once('drain', pump); }
        res.end();
      };
      pump();
    }).listen(process.argv[1]);`;
  const child = spawn(process.execPath, ['-e', code, socketPath], { stdio: 'inherit' });
  for (let i = 0; i < 100 && !fs.existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 50));
  return { close: () => child.kill() };
}

/** OpenSSH forwarding local Unix sockets to the same remote sockets as the action's tunnels. */
async function openssh(dir: string, remotes: string[]): Promise<{ sockets: string[]; close: () => void }> {
  const sockets = remotes.map((_, i) => path.join(dir, `openssh-${i}.sock`));
  const forwards = remotes.flatMap((remote, i) => ['-L', `${sockets[i]}:${remote}`]);
  const child = spawn(
    'ssh',
    [
      '-N',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${env.SSH_KNOWN_HOSTS}`,
      '-o',
      'StreamLocalBindUnlink=yes',
      '-i',
      env.SSH_KEY,
      '-p',
      env.SSH_PORT,
      ...forwards,
      'root@127.0.0.1',
    ],
    { stdio: 'inherit' },
  );
  for (let i = 0; i < 100 && !sockets.every((s) => fs.existsSync(s)); i++)
    await new Promise((r) => setTimeout(r, 50));
  return { sockets, close: () => child.kill() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tunnel-'));
const blobSocket = path.join(dir, 'blob.sock');
const blobs = await blobServer(blobSocket);
const ssh = {
  managers: [
    {
      host: '127.0.0.1',
      hostKey: parseHostKeyPin(
        fs.readFileSync(env.SSH_KNOWN_HOSTS, 'utf8'),
        '127.0.0.1',
        Number(env.SSH_PORT),
      ),
    },
  ],
  port: Number(env.SSH_PORT),
  user: 'root',
  privateKey: fs.readFileSync(env.SSH_KEY, 'utf8'),
  reconnectTimeout: 10,
};
fs.mkdirSync(path.join(dir, 'api'));
fs.mkdirSync(path.join(dir, 'bulk'));
const api = await openTunnel({ ...ssh, remoteSocket: env.MANAGER_SOCKET }, path.join(dir, 'api'));
const bulk = await openTunnel({ ...ssh, remoteSocket: blobSocket }, path.join(dir, 'bulk'));
const reference = await openssh(dir, [env.MANAGER_SOCKET, blobSocket]);
const rows: { req: [number, number]; bulk: [number, number]; direct: number }[] = [];
const stalled: [number, number] = [0, 0];
try {
  for (let round = 0; round < rounds; round++) {
    const [ours, theirs] = [await requestRate(api.socketPath), await requestRate(reference.sockets[0])];
    const req: [number, number] = [ours.rate, theirs.rate];
    stalled[0] += ours.stalls;
    stalled[1] += theirs.stalls;
    const mb: [number, number] = [await bulkRate(bulk.socketPath), await bulkRate(reference.sockets[1])];
    const direct = await bulkRate(blobSocket);
    rows.push({ req, bulk: mb, direct });
    console.log(
      `round ${round + 1}: requests/s action ${req[0].toFixed(0)} openssh ${req[1].toFixed(0)}` +
        ` | bulk MB/s action ${mb[0].toFixed(0)} openssh ${mb[1].toFixed(0)} (no tunnel ${direct.toFixed(0)})`,
    );
  }
} finally {
  await api.close();
  await bulk.close();
  reference.close();
  blobs.close();
}
console.log(
  `median requests/s ratio (action / openssh): ${median(rows.map((r) => r.req[0] / r.req[1])).toFixed(2)}`,
);
console.log(
  `median bulk ratio (action / openssh): ${median(rows.map((r) => r.bulk[0] / r.bulk[1])).toFixed(2)}`,
);
console.log(`requests over 30 ms: action ${stalled[0]}, openssh ${stalled[1]}, of ${rounds * requests} each`);
