import * as core from '@actions/core';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { DockerCli } from './docker.js';

export interface RegistryAuth {
  /** Registry host, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com */
  registry: string;
  username: string;
  password: string;
  expiresAt?: Date;
}

/** Decodes ECR's base64 "AWS:password" token and its https:// proxy endpoint. */
export function decodeAuthorization(token: string, proxyEndpoint: string): Omit<RegistryAuth, 'expiresAt'> {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1)
    throw new Error('ECR returned an authorization token that is not user:password');
  const registry = proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!registry) throw new Error('ECR returned no proxy endpoint');
  return { registry, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * GetAuthorizationToken with the SDK's own credential chain, region and endpoint resolution
 * (AWS_ENDPOINT_URL_ECR included). The password is masked before anything could print it.
 */
export async function getRegistryAuth(region?: string): Promise<RegistryAuth> {
  const client = new ECRClient(region ? { region } : {});
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken || !data.proxyEndpoint)
      throw new Error('ECR returned no authorization data');
    const auth = decodeAuthorization(data.authorizationToken, data.proxyEndpoint);
    core.setSecret(auth.password);
    core.setSecret(data.authorizationToken);
    return { ...auth, expiresAt: data.expiresAt };
  } catch (e) {
    const err = e as Error;
    const hint =
      err.name === 'CredentialsProviderError'
        ? ' (no AWS credentials found: run aws-actions/configure-aws-credentials before this step)'
        : /region/i.test(err.message)
          ? ' (set aws-region, or AWS_REGION in the environment)'
          : '';
    throw new Error(`ECR GetAuthorizationToken failed: ${err.name}: ${err.message}${hint}`, { cause: e });
  } finally {
    client.destroy();
  }
}

/** docker login with the password on stdin, into the private DOCKER_CONFIG. */
export async function dockerLogin(docker: DockerCli, auth: RegistryAuth): Promise<void> {
  await docker.run(['login', '--username', auth.username, '--password-stdin', auth.registry], {
    input: auth.password,
    silent: true,
  });
}
