import * as core from '@actions/core';
import { DEPLOY_FAILURES, failedTag, passedTag, type DeployFailure } from '../naming.js';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ListImagesCommand,
  PutImageCommand,
  type BatchGetImageCommandOutput,
  type Image as EcrImage,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';

/** Where ECR API calls go: the region, and the registry's AWS account (the caller's own when unset). */
export interface EcrTarget {
  awsRegion?: string;
  registryId?: string;
}

export interface RegistryAuth {
  /** Registry host, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com */
  registry: string;
  /** Where the registry answers, with ECR's scheme: https://REGISTRY */
  endpoint: string;
  username: string;
  password: string;
  expiresAt?: Date;
}

/** Decodes ECR's base64 "AWS:password" token and its proxy endpoint (https://REGISTRY). */
export function decodeAuthorization(token: string, proxyEndpoint: string): Omit<RegistryAuth, 'expiresAt'> {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1)
    throw new Error('ECR returned an authorization token that is not user:password');
  const registry = proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!registry) throw new Error('ECR returned no proxy endpoint');
  const scheme = proxyEndpoint.startsWith('http://') ? 'http' : 'https';
  return {
    registry,
    endpoint: `${scheme}://${registry}`,
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  };
}

/**
 * GetAuthorizationToken with the SDK's own credential chain, region and endpoint resolution
 * (AWS_ENDPOINT_URL_ECR included). The token opens every registry the caller may use; registryIds
 * picks whose proxyEndpoint (the registry host) comes back. The password is masked before anything
 * could print it.
 */
export async function getRegistryAuth(target: EcrTarget): Promise<RegistryAuth> {
  const { registryId } = target;
  try {
    const out = await withClient(target, (client) =>
      client.send(new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {})),
    );
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
          : registryId
            ? ` (registry-id ${registryId}: is it the account that owns the registry, and does that registry let this role in?)`
            : '';
    throw new Error(`ECR GetAuthorizationToken failed: ${err.name}: ${err.message}${hint}`, { cause: e });
  }
}

/** Manifest types BatchGetImage may return: Docker v2 and OCI, single images and multi-platform lists. */
export const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

async function withClient<T>({ awsRegion }: EcrTarget, fn: (client: ECRClient) => Promise<T>): Promise<T> {
  const client = new ECRClient(awsRegion ? { region: awsRegion } : {});
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

async function getImages(
  client: ECRClient,
  registryId: string | undefined,
  repository: string,
  imageIds: ImageIdentifier[],
  options?: { abortSignal: AbortSignal },
): Promise<BatchGetImageCommandOutput> {
  return client.send(
    new BatchGetImageCommand({
      registryId,
      repositoryName: repository,
      imageIds,
      acceptedMediaTypes: MANIFEST_TYPES,
    }),
    options,
  );
}

/**
 * ECR refuses a push to a repository that does not exist: find out before building, for every
 * repository the run pushes to, and name all that are missing at once. A caller not allowed to
 * describe repositories is let through (the push will tell).
 */
export async function checkRepositories(
  target: EcrTarget,
  repositories: string[],
  registry: string,
): Promise<void> {
  await withClient(target, async (client) => {
    const missing: string[] = [];
    for (const repository of repositories) {
      try {
        await client.send(
          new DescribeRepositoriesCommand({ registryId: target.registryId, repositoryNames: [repository] }),
        );
      } catch (e) {
        const err = e as Error;
        if (err.name === 'RepositoryNotFoundException') missing.push(repository);
        else
          core.info(
            `Could not check that ECR repository ${repository} exists (${err.name}); the push will tell`,
          );
      }
    }
    if (missing.length === 0) return;
    const region = await Promise.resolve(client.config?.region?.()).catch(() => undefined);
    const where = `${registry}${region ? ` (${region})` : ''}`;
    throw new Error(
      missing
        .map(
          (repository) =>
            `${repository === repositories[0] ? 'ecr-repository' : 'stack-file'}: no repository ${repository} in ${where}: create it (aws ecr create-repository --repository-name ${repository}), or correct ${repository === repositories[0] ? 'ecr-repository' : "the service's image:"}, registry-id or aws-region`,
        )
        .join('\n'),
    );
  });
}

/** An image in a registry: its host (for messages), repository, tag and, when known, digest. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag: string;
  digest?: string;
}

/**
 * How long the registry has to answer each question asked before anything is built or deployed (are
 * the credentials good, does it hold the image): a registry that is down stops the run this early.
 */
export const REGISTRY_TIMEOUT_MS = 30_000;

/**
 * The digest of repository:tag in ECR, asked with BatchGetImage (what a pull asks, so a registry
 * policy that lets the caller pull is enough). With a digest, ECR checks that the tag names it.
 */
export async function findImage(target: EcrTarget, image: ImageRef): Promise<string> {
  const { registry, repository, tag, digest } = image;
  const ref = `${repository}:${tag}${digest ? `@${digest}` : ''}`;
  const out = await withClient(target, (client) =>
    getImages(client, target.registryId, repository, [{ imageTag: tag, imageDigest: digest }], {
      abortSignal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
    }),
  ).catch((err: Error) => {
    if (err.name === 'AbortError' || err.name === 'TimeoutError')
      throw new Error(
        `the registry ${registry} did not answer within ${REGISTRY_TIMEOUT_MS / 1000} s whether it holds ${ref} (ECR BatchGetImage): nothing was deployed; deploy again once it answers`,
        { cause: err },
      );
    throw new Error(`ECR BatchGetImage of ${ref} in ${registry} failed: ${err.name}: ${err.message}`, {
      cause: err,
    });
  });
  const found = out.images?.[0]?.imageId?.imageDigest;
  if (found) return found;
  const failure = out.failures?.[0];
  if (failure?.failureCode === 'ImageTagDoesNotMatchDigest')
    throw new Error(
      `${repository}:${tag} in ECR is another image than ${digest}: the tag was moved to another build, or the digest is of another image`,
    );
  if (failure && failure.failureCode !== 'ImageNotFound')
    throw new Error(
      `ECR could not read ${repository}:${tag}: ${failure.failureCode}: ${failure.failureReason}`,
    );
  throw new Error(`no image ${ref} in ECR: push it before this step, or correct the reference`);
}

/**
 * Gives each repository's image tagged `source` the given tags, registry side: every manifest is read
 * with BatchGetImage first, so that a missing one stops the promotion before any tag moves, then
 * written back under each tag with PutImage, so nothing is pulled or rebuilt. A tag that already names
 * the same image is left as it is; returns each repository's digest, in order.
 */
export async function promoteImages(
  target: EcrTarget,
  repositories: string[],
  source: string,
  tags: string[],
  commit: string,
): Promise<string[]> {
  return withClient(target, async (client) => {
    const read = await Promise.all(
      repositories.map(async (repository) => {
        const out = await getImages(
          client,
          target.registryId,
          repository,
          [source, ...tags].map((imageTag) => ({ imageTag })),
        );
        return { repository, found: new Map((out.images ?? []).map((i) => [i.imageId?.imageTag ?? '', i])) };
      }),
    );
    const missing = read.filter(({ found }) => {
      const image = found.get(source);
      return !image?.imageManifest || !image.imageId?.imageDigest;
    });
    if (missing.length > 0)
      throw new Error(
        `no image ${missing.map((m) => `${m.repository}:${source}`).join(', ')} in ECR for commit ${commit}: the deploy of that commit pushes ${missing.length > 1 ? 'them' : 'it'}; promote only releases images that were built and tested, and no tag was moved`,
      );
    const digests: string[] = [];
    for (const { repository, found } of read) {
      const image = found.get(source)!;
      const digest = image.imageId!.imageDigest!;
      for (const tag of tags)
        await putTag(client, target, repository, {
          image,
          tag,
          source: `${repository}:${source}`,
          existing: found.get(tag),
        });
      digests.push(digest);
    }
    return digests;
  });
}

/** Writes image's manifest under tag, unless tag names the same image already. */
async function putTag(
  client: ECRClient,
  target: EcrTarget,
  repository: string,
  { image, tag, source, existing }: { image: EcrImage; tag: string; source: string; existing?: EcrImage },
): Promise<void> {
  const digest = image.imageId!.imageDigest!;
  const had = existing?.imageId?.imageDigest;
  if (had === digest) {
    core.info(`${repository}:${tag} is already ${digest}`);
    return;
  }
  try {
    const put = await client.send(
      new PutImageCommand({
        registryId: target.registryId,
        repositoryName: repository,
        imageManifest: image.imageManifest,
        imageManifestMediaType: image.imageManifestMediaType,
        imageTag: tag,
        imageDigest: digest,
      }),
    );
    const written = put.image?.imageId?.imageDigest;
    if (written !== digest)
      throw new Error(`ECR stored ${repository}:${tag} as ${written}, not the tested ${digest}`);
    core.info(`Tagged ${source} as ${tag} (${digest})`);
  } catch (e) {
    if ((e as Error).name === 'ImageTagAlreadyExistsException') {
      throw new Error(
        `${repository}:${tag} already exists as another image (${had ?? 'unknown digest'}) and the repository's tags are immutable: release a new version tag instead of moving ${tag}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** What ECR holds for a commit's image of tag in one repository, and what its deploys recorded. */
export interface DeployRecord {
  repository: string;
  /** The image's digest; absent while the image is not pushed. */
  digest?: string;
  /** A deploy of this very image (same digest) passed: its one-shots, rollout and tests. */
  passed: boolean;
  /** What a deploy of this very image failed at, when one recorded a failure. */
  failed?: DeployFailure;
}

/** Each repository's image of tag and the outcomes its deploys recorded (see passedTag), as ECR holds them now. */
export async function deployRecords(
  target: EcrTarget,
  repositories: string[],
  tag: string,
): Promise<DeployRecord[]> {
  return withClient(target, (client) =>
    Promise.all(
      repositories.map(async (repository) => {
        const records = [tag, passedTag(tag), ...DEPLOY_FAILURES.map((what) => failedTag(tag, what))];
        const out = await getImages(
          client,
          target.registryId,
          repository,
          records.map((imageTag) => ({ imageTag })),
        );
        const digests = new Map((out.images ?? []).map((i) => [i.imageId?.imageTag, i.imageId?.imageDigest]));
        const digest = digests.get(tag);
        const same = (t: string) => digest !== undefined && digests.get(t) === digest;
        return {
          repository,
          digest,
          passed: same(passedTag(tag)),
          failed: DEPLOY_FAILURES.find((what) => same(failedTag(tag, what))),
        };
      }),
    ),
  );
}

/**
 * Gives each image deployed (by its digest) the record tag (passedTag, failedTag): what promote reads.
 */
export async function recordDeploy(
  target: EcrTarget,
  images: { repository: string; digest: string }[],
  record: string,
): Promise<void> {
  await withClient(target, async (client) => {
    for (const { repository, digest } of images) {
      const out = await getImages(client, target.registryId, repository, [
        { imageDigest: digest },
        { imageTag: record },
      ]);
      const found = out.images ?? [];
      const image = found.find((i) => i.imageId?.imageDigest === digest && i.imageManifest);
      if (!image) throw new Error(`ECR no longer holds ${repository}@${digest}`);
      const existing = found.find((i) => i.imageId?.imageTag === record);
      await putTag(client, target, repository, {
        image,
        tag: record,
        source: `${repository}@${digest}`,
        existing,
      });
    }
  });
}

/** Deletes every tag starting with prefix (e.g. pr-42-); returns the tags deleted. */
export async function deleteImagesTagged(
  target: EcrTarget,
  repository: string,
  prefix: string,
): Promise<string[]> {
  const { registryId } = target;
  return withClient(target, async (client) => {
    const tags: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListImagesCommand({
          registryId,
          repositoryName: repository,
          filter: { tagStatus: 'TAGGED' },
          nextToken,
        }),
      );
      for (const id of page.imageIds ?? []) if (id.imageTag?.startsWith(prefix)) tags.push(id.imageTag);
      nextToken = page.nextToken;
    } while (nextToken);
    for (let i = 0; i < tags.length; i += 100) {
      const out = await client.send(
        new BatchDeleteImageCommand({
          registryId,
          repositoryName: repository,
          imageIds: tags.slice(i, i + 100).map((imageTag) => ({ imageTag })),
        }),
      );
      const failed = (out.failures ?? []).filter((f) => f.failureCode !== 'ImageNotFound');
      if (failed.length > 0)
        throw new Error(
          `ECR could not delete ${failed.map((f) => `${f.imageId?.imageTag}: ${f.failureReason}`).join('; ')}`,
        );
    }
    return tags;
  });
}
