/**
 * The run's own images in the stack: which they are, which services run them, and how each is built
 * (from the inputs, or from a service's build: section).
 */
import path from 'node:path';
import type { BuildSpec, Image } from '../config/index.js';
import { buildSpecProblems, isEcrRepository } from '../config/index.js';
import { imageName, imageRepository } from '../naming.js';
import { buildContext, isRemoteContext, record, type StackDoc } from './document.js';

/** What a build: section may say that the action builds with; anything else is refused by name. */
const BUILD_KEYS = new Set(['context', 'dockerfile', 'target', 'args', 'labels']);

export interface ImagePlanContext {
  /** The registry's host, as the rendering names it. */
  registry: string;
  /** The run's tag: every image it builds is tagged so (the version variable). */
  tag: string;
  /** ecr-repository: the run's first image. */
  repository: string;
  /** How the inputs build ecr-repository's image; none when the run builds nothing (build: false, image, promote). */
  inputBuild?: BuildSpec;
  versionVariable: string;
  /** The image input: one image built elsewhere, which a build: section may not join. */
  prebuilt: boolean;
  /** In a preview: the repositories besides ecr-repository that its build: sections may push to. */
  previewRepositories?: string[];
  /** Where docker takes the stack's relative paths from (the first stack file's folder). */
  dir: string;
  files: string[];
}

/**
 * The run's images, from docker's rendering: ecr-repository's first, then one for each image a
 * service's build: section builds (services naming the same image share one build). A build: section
 * builds REGISTRY/REPOSITORY:TAG of the run's registry and tag; ecr-repository's image is built from
 * the inputs unless a build: section builds it. Each lists the services that run it. Problems are
 * returned, each naming the service or input and the fix.
 */
export function planImages(doc: StackDoc, ctx: ImagePlanContext): { images: Image[]; problems: string[] } {
  const named = `stack-file ${ctx.files.map((f) => `"${f}"`).join(' + ')}`;
  const problems: string[] = [];
  const byRepository = new Map<string, Image>();
  const first: Image = { repository: ctx.repository, services: [] };
  byRepository.set(ctx.repository, first);
  /** The service whose build: section builds each repository. */
  const builders = new Map<string, string>();
  for (const [service, def] of Object.entries(doc.services)) {
    if (def.build === undefined) continue;
    const image = typeof def.image === 'string' ? def.image : '';
    const repository = runRepository(image, ctx);
    if (!repository) {
      problems.push(
        `${named}: service ${service} builds ${image || 'an image with no image: name'}, which is not in the run's registry under its tag: name it image: \${ECR_REGISTRY}/REPOSITORY:\${${ctx.versionVariable}}`,
      );
      continue;
    }
    if (
      ctx.previewRepositories &&
      repository !== ctx.repository &&
      !ctx.previewRepositories.includes(repository)
    ) {
      problems.push(
        `${named} in a preview: service ${service} builds into repository ${repository}: a pull request pushes only to ecr-repository and what preview-allow names (allow it with repository:${repository})`,
      );
      continue;
    }
    if (ctx.prebuilt) {
      problems.push(
        `image deploys one image built elsewhere, and service ${service}'s build: section builds another: remove the image input, or the build: section`,
      );
      continue;
    }
    const spec = buildSpec(service, record(def.build), ctx, problems);
    if (!spec) continue;
    const known = byRepository.get(repository) ?? { repository, services: [] };
    byRepository.set(repository, known);
    const other = builders.get(repository);
    if (other === undefined) {
      known.build = spec;
      builders.set(repository, service);
    } else if (!sameBuild(known.build!, spec)) {
      problems.push(
        `${named}: services ${other} and ${service} build ${image} differently: give it one build: section, and only image: on the other`,
      );
    }
  }
  if (ctx.inputBuild) {
    if (first.build && inputsChanged(ctx.inputBuild))
      problems.push(
        `${first.build.from} builds ${ctx.repository} (ecr-repository), and so would dockerfile, target or build-args: give the build one home, remove those inputs or the build: section`,
      );
    first.build ??= ctx.inputBuild;
  }
  for (const image of byRepository.values()) {
    const reference = imageName(ctx.registry, image.repository, ctx.tag);
    image.services = Object.entries(doc.services)
      .filter(([, def]) => def.image === reference)
      .map(([name]) => name);
    // A run that builds nothing deploys what the tag names in ECR.
    if (!ctx.inputBuild) delete image.build;
    if (image.build) problems.push(...buildSpecProblems(image.build));
  }
  if (first.services.length === 0)
    problems.push(
      `${named}: no service runs the image this run deploys (\${ECR_REGISTRY}/${ctx.repository}:${ctx.tag}, with its tag in \${${ctx.versionVariable}}), so the deploy would not change the image; write e.g. image: \${ECR_REGISTRY}/${ctx.repository}:\${${ctx.versionVariable}}`,
    );
  return { images: [...byRepository.values()], problems };
}

/** The repository of image when it is REGISTRY/REPOSITORY:TAG of the run's registry and tag. */
function runRepository(image: string, ctx: ImagePlanContext): string | undefined {
  const repository = imageRepository(image, ctx.registry, ctx.tag);
  return repository !== undefined && isEcrRepository(repository) ? repository : undefined;
}

/** A build: section as the action builds it: context (from the stack's folder), dockerfile, target, args, labels. */
function buildSpec(
  service: string,
  build: Record<string, unknown>,
  ctx: ImagePlanContext,
  problems: string[],
): BuildSpec | undefined {
  const from = `service ${service}'s build: section`;
  const unknown = Object.keys(build).filter((k) => !BUILD_KEYS.has(k));
  if (unknown.length > 0)
    problems.push(
      `${from} sets ${unknown.join(', ')}, which the action does not build with (it builds context, dockerfile, target, args and labels; its cache is its own): remove ${unknown.length > 1 ? 'them' : 'it'}`,
    );
  const args: string[] = [];
  for (const [name, value] of Object.entries(record(build.args))) {
    // A name without a value would make docker take it from the runner's environment.
    if (value === null || value === undefined)
      problems.push(`${from}: args ${name} has no value: give it one`);
    else args.push(`${name}=${String(value)}`);
  }
  const context = buildContext(build);
  if (isRemoteContext(context)) {
    problems.push(`${from}: context ${context} is not a folder: the action builds from the checkout`);
    return undefined;
  }
  return {
    context: path.resolve(ctx.dir, context),
    ...(typeof build.dockerfile === 'string' ? { dockerfile: build.dockerfile } : {}),
    ...(typeof build.target === 'string' ? { target: build.target } : {}),
    args,
    labels: Object.fromEntries(Object.entries(record(build.labels)).map(([k, v]) => [k, String(v)])),
    from,
  };
}

const sameBuild = (a: BuildSpec, b: BuildSpec) =>
  JSON.stringify({ ...a, from: '' }) === JSON.stringify({ ...b, from: '' });

/** The inputs that say how to build beyond the context (which always has a value: its default). */
const inputsChanged = (spec: BuildSpec) =>
  spec.dockerfile !== undefined || spec.target !== undefined || spec.args.length > 0;
