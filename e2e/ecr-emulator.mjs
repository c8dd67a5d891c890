// A local stand-in for the Amazon ECR API (JSON protocol) for the calls the action makes, and for
// the access control of ECR's registry.
// Every API request must carry a valid SigV4 signature for one of the sandbox's dummy access keys
// (e2e/credentials.mjs). Each mode's key acts as a role with that mode's documented IAM policy
// (docs/iam/MODE.json), which every call is checked against, as IAM checks it: see Principals below.
// GetAuthorizationToken answers with a registry password that names the caller's principal; the image
// calls (BatchGetImage, PutImage, ListImages, BatchDeleteImage) act on the registry through its HTTP API.
// With ECR_EMULATOR_UPSTREAM (the real registry's private address), it also listens on the registry's
// address (ECR_EMULATOR_REGISTRY) as a proxy that maps each registry request to the ECR action ECR
// checks for it, refuses what the principal's policy does not allow, and forwards the rest (streamed)
// with the real registry's credentials.
// It serves two accounts' registries, as registryIds / registryId name them (see ACCOUNTS).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  MODE_CREDENTIALS,
  OVERRIDE_CREDENTIALS,
  SANDBOX_ACCESS_KEY_ID,
  SANDBOX_SECRET_ACCESS_KEY,
  rolePassword,
} from './credentials.mjs';

const port = Number(process.env.ECR_EMULATOR_PORT ?? 4566);
/** The registry's address as its clients use it (the proxy's, when there is an upstream). */
const registry = process.env.ECR_EMULATOR_REGISTRY ?? '127.0.0.1:5000';
/** The real registry behind the proxy; without it, no proxy runs and the registry is called directly. */
const upstream = process.env.ECR_EMULATOR_UPSTREAM;
/** Where the emulator itself reads and writes images, with the real credentials. */
const backend = upstream ?? registry;
const passwordFile = process.env.ECR_EMULATOR_PASSWORD_FILE;
const policyDir =
  process.env.ECR_EMULATOR_POLICY_DIR ??
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'iam');
/** The policy of the override key, read at each request it signs (absent: it may do nothing). */
const overridePolicyFile = process.env.ECR_EMULATOR_OVERRIDE_POLICY;

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

/**
 * IAM identity-based policies, as IAM evaluates them for these calls: an explicit Deny wins, else an
 * Allow is needed. Action and Resource (a string or a list) match with IAM's wildcards (* any run of
 * characters, ? one; actions case-insensitively, resources case-sensitively). The documented policies'
 * placeholders match what a user would put there: REGION any region, ACCOUNT_ID any account this
 * emulator serves (see ACCOUNTS), REPOSITORY any repository name. A policy with elements these rules
 * cannot evaluate (NotAction, NotResource, Condition) is refused, rather than read more loosely.
 */
const PLACEHOLDERS = {
  REGION: '[a-z]{2}(?:-[a-z]+)+-\\d+',
  ACCOUNT_ID: `(?:${OWN_ACCOUNT}|${TOOLS_ACCOUNT})`,
  REPOSITORY: '[a-z0-9][a-z0-9._/-]*',
};

function patternRegExp(pattern, { placeholders, flags = '' }) {
  const tokens = placeholders ? /(REGION|ACCOUNT_ID|REPOSITORY|\*|\?)/ : /(\*|\?)/;
  const source = pattern
    .split(tokens)
    .map((part) =>
      part === '*'
        ? '.*'
        : part === '?'
          ? '.'
          : placeholders && PLACEHOLDERS[part]
            ? PLACEHOLDERS[part]
            : part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, flags);
}

const list = (value) => (Array.isArray(value) ? value : [value]);

function compilePolicy(document, source) {
  if (document.Version !== '2012-10-17') throw new Error(`${source}: Version is not 2012-10-17`);
  return list(document.Statement).map((statement, i) => {
    for (const key of Object.keys(statement))
      if (!['Sid', 'Effect', 'Action', 'Resource'].includes(key))
        throw new Error(`${source}: statement ${i}: the emulator does not evaluate ${key}`);
    if (!['Allow', 'Deny'].includes(statement.Effect))
      throw new Error(`${source}: statement ${i}: Effect is neither Allow nor Deny`);
    if (!statement.Action || !statement.Resource)
      throw new Error(`${source}: statement ${i}: needs Action and Resource`);
    return {
      effect: statement.Effect,
      actions: list(statement.Action).map((a) => patternRegExp(a, { placeholders: false, flags: 'i' })),
      resources: list(statement.Resource).map((r) => patternRegExp(r, { placeholders: true })),
    };
  });
}

function readPolicy(file) {
  return compilePolicy(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/** 'allow', 'explicit' (an explicit Deny) or 'implicit' (no Allow) for action on resource. */
function evaluate(statements, action, resource) {
  const matching = statements.filter(
    (s) => s.actions.some((a) => a.test(action)) && s.resources.some((r) => r.test(resource)),
  );
  if (matching.some((s) => s.effect === 'Deny')) return 'explicit';
  return matching.some((s) => s.effect === 'Allow') ? 'allow' : 'implicit';
}

/**
 * Principals: the harness (unrestricted: its key, and the real registry password), a role per mode
 * with its documented policy (read at start), and the override role, whose policy is the file
 * ECR_EMULATOR_OVERRIDE_POLICY as it is at each request. Each role's registry password is derived from
 * the real one (so a second emulator with another password hands out passwords the proxy refuses).
 */
const HARNESS = { name: 'harness', arn: `arn:aws:iam::${OWN_ACCOUNT}:user/sandbox`, unrestricted: true };
const roles = [
  ...Object.entries(MODE_CREDENTIALS).map(([mode, credentials]) => ({
    name: mode,
    credentials,
    statements: readPolicy(path.join(policyDir, `${mode}.json`)),
  })),
  { name: 'override', credentials: OVERRIDE_CREDENTIALS, override: true },
].map((role) => ({ ...role, arn: `arn:aws:sts::${OWN_ACCOUNT}:assumed-role/sandbox-${role.name}/e2e` }));

function principalByKey(accessKeyId) {
  if (accessKeyId === SANDBOX_ACCESS_KEY_ID)
    return { ...HARNESS, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY };
  const role = roles.find((r) => r.credentials.accessKeyId === accessKeyId);
  return role && { ...role, secretAccessKey: role.credentials.secretAccessKey };
}

const passwordOf = (role, password = registryPassword()) => rolePassword(role.name, password);

function principalByPassword(password) {
  const real = registryPassword();
  if (password === real) return HARNESS;
  return roles.find((r) => password === passwordOf(r, real));
}

/** undefined when principal may do action on resource, else the refusal's message (as AWS words it). */
function refusal(principal, action, resource) {
  if (principal.unrestricted) return undefined;
  let statements = principal.statements;
  if (principal.override) {
    try {
      statements =
        overridePolicyFile && fs.existsSync(overridePolicyFile) ? readPolicy(overridePolicyFile) : [];
    } catch (e) {
      return `the override policy cannot be read: ${e.message}`;
    }
  }
  const decision = evaluate(statements, action, resource);
  if (decision === 'allow') return undefined;
  const why =
    decision === 'explicit'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${action} action`;
  return `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

const repositoryArn = (region, account, name) => `arn:aws:ecr:${region}:${account}:repository/${name}`;

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
  if (!auth) return { problem: 'missing or malformed SigV4 Authorization header' };
  const principal = principalByKey(auth.accessKeyId);
  if (!principal) return { problem: `unknown access key ${auth.accessKeyId}` };
  if (auth.service !== 'ecr') return { problem: `signed for service ${auth.service}, not ecr` };
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate) return { problem: 'missing x-amz-date' };
  const headers = {};
  for (const name of auth.signedHeaders) headers[name] = req.headers[name];
  const url = new URL(req.url, `http://${req.headers.host}`);
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: principal.secretAccessKey },
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
  if (expected?.signature !== auth.signature) return { problem: 'signature does not match' };
  return { principal, region: auth.region };
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
  const r = await fetch(`http://${backend}/v2/_catalog?n=10000`, {
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

/** As ECR's image calls do, refuses a repository that does not exist. */
async function mustExist(name, registryId = OWN_ACCOUNT) {
  if (!(await repositoryExists(name)))
    throw new EcrError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
    );
}

async function registryCall(method, repo, ref, { accept, contentType, body } = {}) {
  const headers = { authorization: `Basic ${Buffer.from(`AWS:${registryPassword()}`).toString('base64')}` };
  if (accept) headers.accept = accept.join(', ');
  if (contentType) headers['content-type'] = contentType;
  const res = await fetch(`http://${backend}/v2/${repo}/${ref}`, { method, headers, body });
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
  GetAuthorizationToken: ({ registryIds = [OWN_ACCOUNT] }, principal) => ({
    authorizationData: registryIds.map((id) => {
      if (!ACCOUNTS[id])
        throw new EcrError(
          'AccessDeniedException',
          `User: ${principal.arn} is not authorized to perform: ecr:GetAuthorizationToken on the registry of account ${id}`,
        );
      const password = principal.unrestricted ? registryPassword() : passwordOf(principal);
      return {
        authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
        expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
        proxyEndpoint: `https://${ACCOUNTS[id]}`,
      };
    }),
  }),

  CreateRepository: async ({ repositoryName }) => {
    if (await repositoryExists(repositoryName))
      throw new EcrError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${repositoryName}' already exists in the registry with id '${OWN_ACCOUNT}'`,
      );
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
  PutImageTagMutability: async ({ repositoryName, imageTagMutability, registryId }) => {
    await mustExist(repositoryName, registryId);
    if (imageTagMutability === 'IMMUTABLE') immutable.add(repositoryName);
    else immutable.delete(repositoryName);
    return { repositoryName, imageTagMutability };
  },

  BatchGetImage: async ({ repositoryName, imageIds, acceptedMediaTypes, registryId }) => {
    await mustExist(repositoryName, registryId);
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
    await mustExist(repositoryName);
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
    // ECR checks the digest before it stores anything.
    const sha256 = await globalThis.crypto.subtle.digest('SHA-256', Buffer.from(imageManifest));
    const digest = `sha256:${Buffer.from(sha256).toString('hex')}`;
    if (imageDigest && imageDigest !== digest)
      throw new EcrError('ImageDigestDoesNotMatchException', `${imageDigest} does not match ${digest}`);
    const put = await registryCall('PUT', repositoryName, `manifests/${imageTag}`, {
      contentType: type,
      body: imageManifest,
    });
    if (put.status !== 201)
      throw new EcrError('InvalidParameterException', `registry answered ${put.status}: ${put.text}`);
    return {
      image: {
        repositoryName,
        imageId: { imageDigest: put.digest, imageTag },
        imageManifest,
        imageManifestMediaType: type,
      },
    };
  },

  ListImages: async ({ repositoryName, registryId }) => {
    await mustExist(repositoryName, registryId);
    const imageIds = [];
    for (const tag of await listTags(repositoryName)) {
      const m = await getManifest(repositoryName, tag);
      if (m) imageIds.push({ imageTag: tag, imageDigest: m.digest });
    }
    return { imageIds };
  },

  // The registry can only delete a manifest (with all its tags): an image that keeps other tags is
  // deleted and put back under those, which leaves it as ECR does when one of its tags is removed.
  BatchDeleteImage: async ({ repositoryName, imageIds, registryId }) => {
    const all = (await operations.ListImages({ repositoryName, registryId })).imageIds;
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
      // Not an EcrError: ServerException is a server fault, answered with HTTP 500.
      if (del.status !== 202) throw new Error(`registry answered ${del.status} to delete`);
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

/** The ARNs an API call acts on, as ECR authorizes it: its repositories, or * for the login. */
function apiResources(operation, input, region) {
  if (operation === 'GetAuthorizationToken') return ['*'];
  const account = input.registryId ?? OWN_ACCOUNT;
  const names = input.repositoryName ? [input.repositoryName] : (input.repositoryNames ?? []);
  return names.length > 0
    ? names.map((name) => repositoryArn(region, account, name))
    : [repositoryArn(region, account, '*')];
}

const log = (line) => console.log(`${new Date().toISOString()} ${line}`);

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST') return reply(res, 200, { service: 'ecr-emulator' });
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonEC2ContainerRegistry_V20150921\./, '');
    const { problem, principal, region } = await verifySignature(req, body).catch((e) => ({
      problem: String(e),
    }));
    log(`${operation} ${problem ? `rejected: ${problem}` : 'signature ok'}`);
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
    for (const resource of apiResources(operation, input, region)) {
      const denied = refusal(principal, `ecr:${operation}`, resource);
      if (denied) {
        log(`${operation} denied: ${denied}`);
        return reply(res, 400, { __type: 'AccessDeniedException', message: denied });
      }
    }
    try {
      reply(res, 200, await handler(input, principal));
    } catch (e) {
      if (e instanceof EcrError) reply(res, 400, { __type: e.type, message: e.message });
      else reply(res, 500, { __type: 'ServerException', message: String(e) });
    }
  });
});

/**
 * The registry's access control, in front of the real registry: the ECR action ECR checks for each
 * request of the registry API (the Docker Registry HTTP API V2, as docker, BuildKit and Swarm's nodes
 * use it), on the repository it names.
 */
function registryAction(method, pathname) {
  let m = /^\/v2\/(.+)\/blobs\/uploads\/?([^/]*)$/.exec(pathname);
  if (m && !m[2]) return { repository: m[1], action: method === 'POST' ? 'InitiateLayerUpload' : undefined };
  // An upload's chunks (and its status, and cancelling it), then the PUT that completes it.
  if (m) return { repository: m[1], action: method === 'PUT' ? 'CompleteLayerUpload' : 'UploadLayerPart' };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(pathname);
  if (m)
    return {
      repository: m[1],
      action: { HEAD: 'BatchCheckLayerAvailability', GET: 'GetDownloadUrlForLayer' }[method],
    };
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(pathname);
  if (m)
    return {
      repository: m[1],
      action: { HEAD: 'BatchGetImage', GET: 'BatchGetImage', PUT: 'PutImage', DELETE: 'BatchDeleteImage' }[
        method
      ],
    };
  m = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
  if (m) return { repository: m[1], action: method === 'GET' ? 'ListImages' : undefined };
  m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(pathname);
  if (m) return { repository: m[1], action: method === 'GET' ? 'BatchGetImage' : undefined };
  return undefined;
}

/** The registry-side ARNs use this region: the sandbox's registry hosts name none (ECR's do). */
const REGISTRY_REGION = 'us-east-1';

function registryError(res, status, code, message, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ errors: [{ code, message, detail: null }] }));
}

const upstreamAgent = new http.Agent({ keepAlive: true });

function proxy(req, res) {
  const url = new URL(req.url, 'http://registry');
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  const [user, ...rest] = basic ? Buffer.from(basic[1], 'base64').toString('utf8').split(':') : [];
  const principal = user === 'AWS' ? principalByPassword(rest.join(':')) : undefined;
  if (!principal) {
    req.resume();
    return registryError(res, 401, 'UNAUTHORIZED', 'authentication required', {
      'www-authenticate': 'Basic realm="sandbox"',
      'docker-distribution-api-version': 'registry/2.0',
    });
  }
  // The account whose registry this is, by the host the client named (localhost:5000 is the second's).
  const host = String(req.headers.host ?? registry);
  const account = Object.keys(ACCOUNTS).find((id) => ACCOUNTS[id] === host) ?? OWN_ACCOUNT;
  const search = url.searchParams;
  if (url.pathname !== '/v2/' && url.pathname !== '/v2') {
    const mapped = registryAction(req.method, url.pathname);
    if (!mapped?.action && !principal.unrestricted) {
      req.resume();
      return registryError(res, 404, 'UNSUPPORTED', `${req.method} ${url.pathname} is not served`);
    }
    if (mapped?.action) {
      const resource = repositoryArn(REGISTRY_REGION, account, mapped.repository);
      const denied = refusal(principal, `ecr:${mapped.action}`, resource);
      if (denied) {
        log(`registry ${req.method} ${url.pathname} denied: ${denied}`);
        req.resume();
        return registryError(res, 403, 'DENIED', denied);
      }
      // A cross-repository mount reads the blob from the other repository: without leave to pull
      // from there, the registry is asked for a plain upload, as a registry that does not mount answers.
      if (mapped.action === 'InitiateLayerUpload' && search.has('mount') && search.has('from')) {
        const from = repositoryArn(REGISTRY_REGION, account, search.get('from'));
        if (refusal(principal, 'ecr:GetDownloadUrlForLayer', from)) {
          search.delete('mount');
          search.delete('from');
        }
      }
    }
  }
  const query = search.toString();
  const [upstreamHost, upstreamPort] = upstream.split(':');
  const headers = {
    ...req.headers,
    // The registry builds its Location headers from Host: they point back through the proxy.
    host,
    authorization: `Basic ${Buffer.from(`AWS:${registryPassword()}`).toString('base64')}`,
  };
  const forward = http.request(
    {
      host: upstreamHost,
      port: Number(upstreamPort),
      method: req.method,
      path: `${url.pathname}${query ? `?${query}` : ''}`,
      headers,
      agent: upstreamAgent,
    },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', (e) => {
    if (res.headersSent) res.destroy(e);
    else registryError(res, 502, 'UNAVAILABLE', `the registry behind the proxy: ${e.message}`);
  });
  req.pipe(forward);
}

server.listen(port, '127.0.0.1', () => {
  console.log(`ecr emulator on 127.0.0.1:${port}, registry ${registry}`);
  log(`policies: ${roles.map((r) => `${r.name} ${r.credentials.accessKeyId}`).join(', ')}`);
});
const servers = [server];
if (upstream) {
  const registryProxy = http.createServer(proxy);
  // Layers of any size, as slowly as they come.
  registryProxy.requestTimeout = 0;
  const [listenHost, listenPort] = registry.split(':');
  registryProxy.listen(Number(listenPort), listenHost, () =>
    log(`registry proxy on ${registry} for ${upstream}`),
  );
  servers.push(registryProxy);
}
for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () => {
    for (const s of servers) s.closeAllConnections?.();
    Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => process.exit(0));
  });
