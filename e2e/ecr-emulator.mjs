// A local stand-in for the Amazon ECR API (JSON protocol) for the calls the action makes.
// Every request must carry a valid SigV4 signature for the sandbox's dummy credentials.
// GetAuthorizationToken answers with the sandbox registry's real credentials.
import http from 'node:http';
import fs from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './credentials.mjs';

const port = Number(process.env.ECR_EMULATOR_PORT ?? 4566);
const registry = process.env.ECR_EMULATOR_REGISTRY ?? '127.0.0.1:5000';
const passwordFile = process.env.ECR_EMULATOR_PASSWORD_FILE;

function registryPassword() {
  if (process.env.ECR_EMULATOR_PASSWORD) return process.env.ECR_EMULATOR_PASSWORD;
  return fs.readFileSync(passwordFile, 'utf8').trim();
}

function parseAuthorization(value) {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      value ?? '',
    );
  if (!m) return undefined;
  return { accessKeyId: m[1], region: m[3], service: m[4], signedHeaders: m[5].split(';'), signature: m[6] };
}

async function verifySignature(req, body) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return 'missing or malformed SigV4 Authorization header';
  if (auth.accessKeyId !== SANDBOX_ACCESS_KEY_ID) return `unknown access key ${auth.accessKeyId}`;
  if (auth.service !== 'ecr') return `signed for service ${auth.service}, not ecr`;
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate) return 'missing x-amz-date';
  const headers = {};
  for (const name of auth.signedHeaders) headers[name] = req.headers[name];
  const url = new URL(req.url, `http://${req.headers.host}`);
  const signer = new SignatureV4({
    credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY },
    region: auth.region,
    service: 'ecr',
    sha256: Sha256,
  });
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    },
    { signingDate },
  );
  const expected = parseAuthorization(signed.headers.authorization);
  return expected?.signature === auth.signature ? undefined : 'signature does not match';
}

const operations = {
  GetAuthorizationToken: () => ({
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${registryPassword()}`).toString('base64'),
        expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
        proxyEndpoint: `https://${registry}`,
      },
    ],
  }),
};

function reply(res, status, payload) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(payload));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST') return reply(res, 200, { service: 'ecr-emulator' });
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonEC2ContainerRegistry_V20150921\./, '');
    const problem = await verifySignature(req, body).catch((e) => String(e));
    console.log(
      `${new Date().toISOString()} ${operation} ${problem ? `rejected: ${problem}` : 'signature ok'}`,
    );
    if (problem) return reply(res, 403, { __type: 'InvalidSignatureException', message: problem });
    const handler = operations[operation];
    if (!handler) return reply(res, 400, { __type: 'UnknownOperationException', message: operation });
    try {
      reply(res, 200, handler(body ? JSON.parse(body) : {}));
    } catch (e) {
      reply(res, 500, { __type: 'ServerException', message: String(e) });
    }
  });
});

server.listen(port, '127.0.0.1', () =>
  console.log(`ecr emulator on 127.0.0.1:${port}, registry ${registry}`),
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
