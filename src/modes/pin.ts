import type { Image, RolloutConfig } from '../config/index.js';
import { findImage, type RegistryAuth } from '../registry/ecr.js';
import { imageName } from '../naming.js';
import type { ImageResult } from '../report/summary.js';
import type { Deployed } from './outcome.js';
import type { Run } from './session.js';

/** What the run knows of one of its images before ECR is asked: the digest it pushed, pulled or promoted, its build. */
export interface Obtained {
  repository: string;
  digest?: string;
  build?: ImageResult['build'];
}

/**
 * What every rollout deploys: each of the run's images at the digest it pushed, pulled or promoted
 * (or, given a tag alone, the one ECR holds for it), once ECR says it holds it, within a short
 * timeout: a registry that does not answer stops the run here, before the deploy lock and before
 * anything on the swarm changes. Returns the first image's pinned reference (REGISTRY/REPO:TAG@DIGEST,
 * the tests' image) and the pins the rollout applies to every service of the stack that runs
 * REGISTRY/REPO:TAG, and the images by digest; the images go to the report. input, when the reference came from one, starts the
 * error.
 */
export async function pinImages(
  config: RolloutConfig,
  run: Run,
  auth: RegistryAuth,
  images: Image[],
  obtained: Obtained[],
  { input }: { input?: string } = {},
): Promise<{ image: string; pins: Record<string, string>; deployed: Deployed[] }> {
  const result = (image: Image, digest: string): ImageResult => {
    const got = obtained.find((o) => o.repository === image.repository);
    return {
      reference: imageName(auth.registry, image.repository, config.tag),
      digest,
      services: image.services,
      ...(got?.build ? { build: got.build } : {}),
    };
  };
  // What the run pushed is reported even when ECR does not confirm it.
  const known = images.map((image) => obtained.find((o) => o.repository === image.repository)?.digest);
  if (known.every((d) => d !== undefined)) {
    run.report.images = images.map((image, i) => result(image, known[i]!));
    run.report.digest = known[0];
  }
  const results = await run.timeline.phase('Find image in ECR', async () => {
    const found: ImageResult[] = [];
    for (const [i, image] of images.entries()) {
      const ref = {
        registry: auth.registry,
        repository: image.repository,
        tag: config.tag,
        digest: known[i],
      };
      const digest = await findImage(config, ref).catch((err: Error) => {
        throw input ? new Error(`${input}: ${err.message}`, { cause: err }) : err;
      });
      found.push(result(image, digest));
    }
    return found;
  });
  run.report.images = results;
  run.report.digest = results[0].digest;
  const pins = Object.fromEntries(results.map((r) => [r.reference, `${r.reference}@${r.digest}`]));
  return {
    image: `${results[0].reference}@${results[0].digest}`,
    pins,
    deployed: images.map((image, i) => ({ repository: image.repository, digest: results[i].digest })),
  };
}
