import os from 'node:os';
import dns from 'node:dns/promises';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { DockerCli } from '../runner/docker.js';
import { REGISTRY_TIMEOUT_MS, type RegistryAuth } from './ecr.js';

/** The registry credentials as docker's config.json and HTTP Basic carry them. */
export const basicAuth = (auth: RegistryAuth) =>
  Buffer.from(`${auth.username}:${auth.password}`).toString('base64');

/**
 * Writes DOCKER_CONFIG/config.json, created 0600, with the credentials inline and no credsStore: the
 * docker CLI only picks a credential helper it finds on PATH (pass, secretservice) for a config that
 * holds no auths, so the token never leaves this file.
 */
export async function writeDockerConfig(configDir: string, auth: RegistryAuth): Promise<void> {
  const config = {
    auths: { [auth.registry]: { auth: basicAuth(auth) } },
    // The CLI plugins a user installed (docker/setup-buildx-action puts buildx there) still load.
    cliPluginsExtraDirs: [path.join(os.homedir(), '.docker', 'cli-plugins')],
  };
  await fs.writeFile(path.join(configDir, 'config.json'), JSON.stringify(config, null, 2), {
    mode: 0o600,
    flag: 'wx',
  });
}

/** Checks the credentials with the registry (GET /v2/), so that wrong ones fail before any build. */
export async function checkRegistryAuth(docker: DockerCli, auth: RegistryAuth): Promise<void> {
  const res = await getV2(docker, auth);
  if (res.status === 200) return;
  if (res.status === 401)
    throw new Error(
      `ECR rejected the registry credentials for ${auth.registry} (401 from /v2/): the token GetAuthorizationToken returned does not open this registry; check that the AWS credentials, aws-region and any AWS_ENDPOINT_URL_ECR belong to its account and region`,
    );
  throw new Error(
    `the registry ${auth.registry} answered ${res.status} ${res.statusText} to GET /v2/, not 200`,
  );
}

/**
 * GET /v2/ at the endpoint ECR gave. A registry the runner's engine counts insecure is tried over
 * plain http when https cannot connect, as the engine itself does when it pushes.
 */
async function getV2(docker: DockerCli, auth: RegistryAuth): Promise<Response> {
  const url = new URL('/v2/', auth.endpoint);
  try {
    return await get(url, auth);
  } catch (err) {
    if (url.protocol !== 'https:' || !(await isInsecure(docker, auth.registry)))
      throw unreachable(auth.registry, url, err);
  }
  url.protocol = 'http:';
  return get(url, auth).catch((err: unknown) => {
    throw unreachable(auth.registry, url, err);
  });
}

async function get(url: URL, auth: RegistryAuth): Promise<Response> {
  const res = await fetch(url, {
    headers: { authorization: `Basic ${basicAuth(auth)}` },
    redirect: 'manual',
    signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
  });
  await res.arrayBuffer(); // frees the connection
  return res;
}

function unreachable(registry: string, url: URL, err: unknown): Error {
  const e = err as Error;
  const reason = (e.cause as Error | undefined)?.message ?? e.message;
  return new Error(`could not reach the registry ${registry} at ${url.origin}: ${reason}`, { cause: err });
}

interface RegistryConfig {
  IndexConfigs?: Record<string, { Secure?: boolean }>;
  InsecureRegistryCIDRs?: string[];
}

/** The registry settings of the engine docker talks to (docker info), or none when it cannot say. */
async function registryConfig(docker: DockerCli): Promise<RegistryConfig> {
  try {
    const out = await docker.run(['info', '--format', '{{json .RegistryConfig}}'], { silent: true }, true);
    return (JSON.parse(out.stdout) as RegistryConfig | null) ?? {};
  } catch {
    return {};
  }
}

/**
 * Whether the engine counts registry insecure, as dockerd decides: its own entry (--insecure-registry
 * host:port), else whether its host's addresses are in the insecure CIDRs (127.0.0.0/8 by default).
 */
async function isInsecure(docker: DockerCli, registry: string): Promise<boolean> {
  const config = await registryConfig(docker);
  const entry = config.IndexConfigs?.[registry];
  if (entry) return entry.Secure === false;
  const cidrs = new net.BlockList();
  for (const cidr of config.InsecureRegistryCIDRs ?? []) {
    const [address, bits] = cidr.split('/');
    cidrs.addSubnet(address, Number(bits), ipType(address));
  }
  return (await addresses(registry)).some((a) => cidrs.check(a, ipType(a)));
}

const ipType = (address: string) => (net.isIPv6(address) ? 'ipv6' : 'ipv4');

/** The addresses of a registry's host (host, host:port or [v6]:port). */
async function addresses(registry: string): Promise<string[]> {
  const host = new URL(`http://${registry}`).hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return [host];
  const found = await dns.lookup(host, { all: true }).catch(() => []);
  return found.map((a) => a.address);
}
