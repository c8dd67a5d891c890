// A local stand-in for the Amazon ECR API (JSON protocol) for the calls the action makes.
// Every request must carry a valid SigV4 signature for the sandbox's dummy credentials.
// GetAuthorizationToken answers with the sandbox registry's real credentials; the image calls
// (BatchGetImage, PutImage, ListImages, BatchDeleteImage) act on the registry through its HTTP API.
// It serves two accounts' registries, as registryIds / registryId name them (see ACCOUNTS).
import http from 'node:http';
import fs from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './credentials.mjs';

const port = Number(process.env.ECR_EMULATOR_PORT ?? 4566);
const registry = process.env.ECR_EMULATOR_REGISTRY ?? '127.0.0.1:5000';
const passwordFile = process.env.ECR_EMULATOR_PASSWORD_FILE;

/**
 * The registries served, by AWS account id: the caller's own (the default, with no registryIds /
 * registryId) and a second account's, like a shared tools account. Both are the sandbox registry, the
 * second under another host name, since each account's registry has a host of its own. Any other
 * account is refused, as AWS refuses a registry the caller may not use.
 */
const OWN_ACCOUNT = '123456789012';
const TOOLS_ACCOUNT = '210987654321';
const ACCOUNTS = {
  [OWN_ACCOUNT]: registry,
  [TOOLS_ACCOUNT]: registry.replace(/^127\.0\.0\.1:/, 'localhost:'),
};

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

/** Repositories made tag-immutable with PutImageTagMutability. */
const immutable = new Set();

/**
 * Repositories that exist, as ECR needs them to before a push: those made with CreateRepository,
 * those the registry already holds, and the fixture's own (ECR_EMULATOR_REPOSITORIES, comma separated).
 */
const created = new Set((process.env.ECR_EMULATOR_REPOSITORIES ?? 'todobackend').split(',').filter(Boolean));

async function repositoryExists(name) {
  if (created.has(name)) return true;
  const r = await fetch(`http://${registry}/v2/_catalog?n=10000`, {
    headers: { authorization: `Basic ${Buffer.from(`AWS:${registryPassword()}`).toString('base64')}` },
  });
  return r.ok && ((await r.json()).repositories ?? []).includes(name);
}

class EcrError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

async function registryCall(method, repo, ref, { accept, contentType, body } = {}) {
  const headers = { authorization: `Basic ${Buffer.from(`AWS:${registryPassword()}`).toString('base64')}` };
  if (accept) headers.accept = accept.join(', ');
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`http://${registry}/v2/${repo}/${ref}`, { method, headers, body });
  const text = await res.text();
  return {
    status: res.status,
    text,
    digest: res.headers.get('docker-content-digest') ?? undefined,
    type: res.headers.get('content-type') ?? undefined,
  };
}

const ALL_MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

async function getManifest(repo, ref, accepted) {
  const r = await registryCall('GET', repo, `manifests/${ref}`, { accept: accepted ?? ALL_MANIFEST_TYPES });
  return r.status === 200 ? r : undefined;
}

async function listTags(repo) {
  const r = await registryCall('GET', repo, 'tags/list');
  return r.status === 200 ? (JSON.parse(r.text).tags ?? []) : [];
}

const operations = {
  GetAuthorizationToken: ({ registryIds = [OWN_ACCOUNT] }) => ({
    authorizationData: registryIds.map((id) => {
      if (!ACCOUNTS[id])
        throw new EcrError(
          'AccessDeniedException',
          `User: arn:aws:iam::${OWN_ACCOUNT}:user/sandbox is not authorized to perform: ecr:GetAuthorizationToken on the registry of account ${id}`,
        );
      return {
        authorizationToken: Buffer.from(`AWS:${registryPassword()}`).toString('base64'),
        expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
        proxyEndpoint: `https://${ACCOUNTS[id]}`,
      };
    }),
  }),

  CreateRepository: ({ repositoryName }) => {
    created.add(repositoryName);
    return { repository: { repositoryName, registryId: OWN_ACCOUNT } };
  },
  DescribeRepositories: async ({ repositoryNames = [], registryId = OWN_ACCOUNT }) => {
    for (const name of repositoryNames) {
      if (!(await repositoryExists(name)))
        throw new EcrError(
          'RepositoryNotFoundException',
          `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
        );
    }
    return { repositories: repositoryNames.map((repositoryName) => ({ repositoryName, registryId })) };
  },
  PutImageTagMutability: ({ repositoryName, imageTagMutability }) => {
    if (imageTagMutability === 'IMMUTABLE') immutable.add(repositoryName);
    else immutable.delete(repositoryName);
    return { repositoryName, imageTagMutability };
  },

  BatchGetImage: async ({ repositoryName, imageIds, acceptedMediaTypes }) => {
    const images = [];
    const failures = [];
    for (const id of imageIds) {
      const m = await getManifest(repositoryName, id.imageTag ?? id.imageDigest, acceptedMediaTypes);
      if (!m) {
        failures.push({
          imageId: id,
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        });
        continue;
      }
      // Given both, ECR checks that the tag names the digest.
      if (id.imageTag && id.imageDigest && id.imageDigest !== m.digest) {
        failures.push({
          imageId: id,
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: 'Image tag does not match image digest',
        });
        continue;
      }
      images.push({
        repositoryName,
        imageId: { imageDigest: m.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: m.text,
        imageManifestMediaType: m.type,
      });
    }
    return { images, failures };
  },

  PutImage: async ({ repositoryName, imageManifest, imageManifestMediaType, imageTag, imageDigest }) => {
    const type = imageManifestMediaType ?? JSON.parse(imageManifest).mediaType;
    const existing = await getManifest(repositoryName, imageTag, [type]);
    if (existing && immutable.has(repositoryName))
      throw new EcrError(
        'ImageTagAlreadyExistsException',
        `The image tag '${imageTag}' already exists in the '${repositoryName}' repository and cannot be overwritten because the repository is immutable.`,
      );
    if (existing && existing.text === imageManifest)
      throw new EcrError(
        'ImageAlreadyExistsException',
        `Image with digest '${existing.digest}' and tag '${imageTag}' already exists`,
      );
    const put = await registryCall('PUT', repositoryName, `manifests/${imageTag}`, {
      contentType: type,
      body: imageManifest,
    });
    if (put.status !== 201)
      throw new EcrError('InvalidParameterException', `registry answered ${put.status}: ${put.text}`);
    if (imageDigest && imageDigest !== put.digest)
      throw new EcrError('ImageDigestDoesNotMatchException', `${imageDigest} does not match ${put.digest}`);
    return {
      image: {
        repositoryName,
        imageId: { imageDigest: put.digest, imageTag },
        imageManifest,
        imageManifestMediaType: type,
      },
    };
  },

  ListImages: async ({ repositoryName }) => {
    const imageIds = [];
    for (const tag of await listTags(repositoryName)) {
      const m = await getManifest(repositoryName, tag);
      if (m) imageIds.push({ imageTag: tag, imageDigest: m.digest });
    }
    return { imageIds };
  },

  // The registry can only delete a manifest (with all its tags): an image that keeps other tags is
  // deleted and put back under those, which leaves it as ECR does when one of its tags is removed.
  BatchDeleteImage: async ({ repositoryName, imageIds }) => {
    const all = (await operations.ListImages({ repositoryName })).imageIds;
    const deleting = new Set(imageIds.map((i) => i.imageTag));
    const deleted = [];
    const failures = [];
    for (const id of imageIds) {
      const found = all.find((i) => i.imageTag === id.imageTag);
      if (found) deleted.push(found);
      else
        failures.push({
          imageId: id,
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        });
    }
    for (const digest of new Set(deleted.map((d) => d.imageDigest))) {
      const keep = all.filter((i) => i.imageDigest === digest && !deleting.has(i.imageTag));
      const manifest = await getManifest(repositoryName, digest);
      const del = await registryCall('DELETE', repositoryName, `manifests/${digest}`);
      if (del.status !== 202)
        throw new EcrError('ServerException', `registry answered ${del.status} to delete`);
      for (const tag of keep) {
        await registryCall('PUT', repositoryName, `manifests/${tag.imageTag}`, {
          contentType: manifest.type,
          body: manifest.text,
        });
      }
    }
    return { imageIds: deleted, failures };
  },
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
    const input = body ? JSON.parse(body) : {};
    // Every image call names its registry by registryId (the caller's own when absent), as ECR's do.
    if (input.registryId && !ACCOUNTS[input.registryId])
      return reply(res, 400, {
        __type: 'RepositoryNotFoundException',
        message: `The repository with name '${input.repositoryName}' does not exist in the registry with id '${input.registryId}'`,
      });
    try {
      reply(res, 200, await handler(input));
    } catch (e) {
      if (e instanceof EcrError) reply(res, 400, { __type: e.type, message: e.message });
      else reply(res, 500, { __type: 'ServerException', message: String(e) });
    }
  });
});

server.listen(port, '127.0.0.1', () =>
  console.log(`ecr emulator on 127.0.0.1:${port}, registry ${registry}`),
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
