// The run's images, read from docker's rendering: what the stack's build: sections build, and what
// the inputs build, each with the services that run it.
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { BuildSpec } from '../../src/config/index.js';
import { planImages, type ImagePlanContext } from '../../src/stack/image-plan.js';
import { recordedWorkspace, rendered } from '../helpers/rendered.js';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
let workspace = '';
beforeAll(() => {
  workspace = recordedWorkspace();
});

const input = (over: Partial<BuildSpec> = {}): BuildSpec => ({
  context: workspace,
  args: [],
  labels: {},
  from: 'the context input',
  ...over,
});
const context = (over: Partial<ImagePlanContext> = {}): ImagePlanContext => ({
  registry: REGISTRY,
  tag: 'pr-7-abc1234',
  repository: 'todobackend',
  inputBuild: input(),
  versionVariable: 'APP_VERSION',
  prebuilt: false,
  dir: workspace,
  files: ['stack.yml'],
  ...over,
});

describe('planImages', () => {
  test("two images of the stack's build: sections; services naming the same image share its build", () => {
    const { images, problems } = planImages(rendered('two-images', workspace), context());
    expect(problems).toEqual([]);
    expect(images).toEqual([
      {
        repository: 'todobackend',
        services: ['app', 'migrate'],
        build: { context: workspace, args: [], labels: {}, from: "service app's build: section" },
      },
      {
        repository: 'todobackend-proxy',
        services: ['proxy'],
        build: {
          context: path.join(workspace, 'proxy'),
          dockerfile: 'Dockerfile.prod',
          target: 'release',
          args: ['CACHE=', 'UPSTREAM=app'],
          labels: { 'com.example.part': 'proxy' },
          from: "service proxy's build: section",
        },
      },
    ]);
  });

  test('no build: section: ecr-repository built from the inputs, as before; its context must be a folder', () => {
    const doc = rendered('fixture-stack', workspace);
    expect(planImages(doc, context())).toEqual({
      images: [{ repository: 'todobackend', services: ['app', 'db', 'migrate'], build: input() }],
      problems: [],
    });
    expect(planImages(doc, context({ inputBuild: input({ context: '/nope' }) })).problems).toEqual([
      'the context input: context "/nope" is not a directory: point it at the folder with the Dockerfile',
    ]);
  });

  test('a run that builds nothing (build: false, promote) deploys each image without a build', () => {
    const { images, problems } = planImages(
      rendered('two-images', workspace),
      context({ inputBuild: undefined }),
    );
    expect(problems).toEqual([]);
    expect(images.map((i) => [i.repository, i.build])).toEqual([
      ['todobackend', undefined],
      ['todobackend-proxy', undefined],
    ]);
  });

  test('both a build: section and build inputs for ecr-repository: refused, naming both', () => {
    const { problems } = planImages(
      rendered('two-images', workspace),
      context({ inputBuild: input({ args: ['A=1'] }) }),
    );
    expect(problems).toEqual([
      "service app's build: section builds todobackend (ecr-repository), and so would dockerfile, target or build-args: give the build one home, remove those inputs or the build: section",
    ]);
  });

  test("a build: section's image outside the run's registry or tag, or with keys the action does not build with", () => {
    const doc = rendered('two-images', workspace);
    doc.services.proxy.image = 'docker.io/library/nginx:1';
    doc.services.migrate.build = {
      context: '.',
      target: 'migrate',
      cache_from: ['x'],
      args: { TOKEN: null },
    };
    expect(planImages(doc, context()).problems).toEqual([
      "service migrate's build: section sets cache_from, which the action does not build with (it builds context, dockerfile, target, args and labels; its cache is its own): remove it",
      "service migrate's build: section: args TOKEN has no value: give it one",
      'stack-file "stack.yml": services app and migrate build 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:pr-7-abc1234 differently: give it one build: section, and only image: on the other',
      'stack-file "stack.yml": service proxy builds docker.io/library/nginx:1, which is not in the run\'s registry under its tag: name it image: ${ECR_REGISTRY}/REPOSITORY:${APP_VERSION}',
    ]);
  });

  test('the image input with a build: section, and an ecr-repository image no service runs', () => {
    const doc = rendered('two-images', workspace);
    doc.services.app.image = doc.services.migrate.image = 'postgres:16';
    delete doc.services.app.build;
    expect(planImages(doc, context({ prebuilt: true, inputBuild: undefined })).problems).toEqual([
      "image deploys one image built elsewhere, and service proxy's build: section builds another: remove the image input, or the build: section",
      'stack-file "stack.yml": no service runs the image this run deploys (${ECR_REGISTRY}/todobackend:pr-7-abc1234, with its tag in ${APP_VERSION}), so the deploy would not change the image; write e.g. image: ${ECR_REGISTRY}/todobackend:${APP_VERSION}',
    ]);
  });

  test("a preview's build: sections push only to ecr-repository and what preview-allow names", () => {
    const doc = rendered('two-images', workspace);
    expect(planImages(doc, context({ previewRepositories: [] })).problems).toEqual([
      'stack-file "stack.yml" in a preview: service proxy builds into repository todobackend-proxy: a pull request pushes only to ecr-repository and what preview-allow names (allow it with repository:todobackend-proxy)',
    ]);
    expect(planImages(doc, context({ previewRepositories: ['todobackend-proxy'] })).problems).toEqual([]);
  });
});
