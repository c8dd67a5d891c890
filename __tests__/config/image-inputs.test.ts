// The image input (an image built elsewhere, deployed without a build) and registry-id (a registry in
// another account), as readConfig reads them.
import fs from 'node:fs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import {
  InputError,
  readConfig,
  type Mode,
  type PreviewConfig,
  type TeardownConfig,
} from '../../src/config/index.js';
import { userStep } from '../helpers/step.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
let base: Record<string, string>;

/** What the runner sets from action.yml alone: every default (build: true among them). */
const runnerDefaults = Object.fromEntries(
  Object.entries(
    (parse(fs.readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> }).inputs,
  )
    .filter(([, spec]) => spec.default !== undefined && !String(spec.default).includes('${{'))
    .map(([name, spec]) => [name, String(spec.default)]),
);

let workspace = '';
beforeAll(() => {
  // No Dockerfile: with image, nothing is built, so the build context is not looked at.
  const step = userStep('image-input-', { dockerfile: false });
  workspace = step.dir;
  base = { ...runnerDefaults, ...step.inputs, 'stack-name': 'todo' };
});

/** Every mode's fields at once, for assertions (each test knows its mode). */
type AnyConfig = Omit<PreviewConfig, 'mode'> & Omit<TeardownConfig, 'mode'> & { mode: Mode };

const read = (given: Record<string, string>, event: Record<string, unknown> = {}) =>
  readConfig(
    (name) => ({ ...base, ...given })[name] ?? '',
    { GITHUB_SHA: SHA, GITHUB_WORKSPACE: workspace },
    event,
  ) as AnyConfig;

function problems(given: Record<string, string>): string[] {
  try {
    read(given);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('image: an image built elsewhere', () => {
  test.each([
    [`${REGISTRY}/todo:v1@${DIGEST}`, 'v1', DIGEST],
    [`${REGISTRY}/todo:v1`, 'v1', undefined],
    // A digest alone: the tag is the commit's, as the action tags its own builds.
    [`${REGISTRY}/todo@${DIGEST}`, SHA.slice(0, 7), DIGEST],
    [`127.0.0.1:5000/todo:v1@${DIGEST}`, 'v1', DIGEST],
  ])('%s: no build (build: true is only a default), the repository from image', (image, tag, digest) => {
    const c = read({ image });
    expect(c).toMatchObject({ repository: 'todo', tag, build: false });
    expect(c.prebuilt).toEqual({ registry: image.slice(0, image.indexOf('/')), digest });
  });

  test('a digest alone takes image-tag, or the SHA as tag-format says', () => {
    expect(read({ image: `${REGISTRY}/todo@${DIGEST}`, 'image-tag': 'release-7' }).tag).toBe('release-7');
    expect(read({ image: `${REGISTRY}/todo@${DIGEST}`, 'tag-format': 'full' }).tag).toBe(SHA);
  });

  test('ecr-repository may name the same repository', () => {
    const c = read({ image: `${REGISTRY}/team/todo:v1`, 'ecr-repository': 'team/todo' });
    expect(c.repository).toBe('team/todo');
  });

  test.each<[Record<string, string>, string]>([
    [
      { image: 'todo:v1' },
      'image "todo:v1" is not REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST or REGISTRY/REPOSITORY:TAG@sha256:DIGEST (the registry host first, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:abc1234)',
    ],
    [
      { image: `${REGISTRY}/todo` },
      `image "${REGISTRY}/todo" is not REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST or REGISTRY/REPOSITORY:TAG@sha256:DIGEST (the registry host first, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:abc1234)`,
    ],
    [
      { image: `${REGISTRY}/todo@sha256:abc` },
      `image "${REGISTRY}/todo@sha256:abc" is not REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST or REGISTRY/REPOSITORY:TAG@sha256:DIGEST (the registry host first, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:abc1234)`,
    ],
    [
      { image: `${REGISTRY}/Todo:v1` },
      `image "${REGISTRY}/Todo:v1" is not REGISTRY/REPOSITORY:TAG, REGISTRY/REPOSITORY@sha256:DIGEST or REGISTRY/REPOSITORY:TAG@sha256:DIGEST (the registry host first, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/todobackend:abc1234)`,
    ],
    [
      { image: `${REGISTRY}/todo:v1`, 'ecr-repository': 'other' },
      'ecr-repository "other" is not the repository image names (todo): remove ecr-repository, image names it',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, 'image-tag': 'v2' },
      'image-tag: image names its tag (v1) already; remove image-tag',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, 'build-args': 'A=1' },
      'build-args is for a build, and with image nothing is built: remove build-args (give it to the build that made the image)',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, target: 'prod' },
      'target is for a build, and with image nothing is built: remove target (give it to the build that made the image)',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, dockerfile: 'Dockerfile.prod' },
      'dockerfile is for a build, and with image nothing is built: remove dockerfile (give it to the build that made the image)',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, 'extra-tags': 'latest' },
      'extra-tags is for a build, and with image nothing is built: remove extra-tags (give it to the build that made the image)',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, labels: 'team=web' },
      'labels is for a build, and with image nothing is built: remove labels (give it to the build that made the image)',
    ],
    [
      { image: `${REGISTRY}/todo:v1`, mode: 'promote', 'release-tag': 'v1.0.0' },
      'image only applies to the modes that build (deploy, preview), in place of their build: remove it',
    ],
  ])('%o: one problem naming the input and the fix', (given, message) => {
    expect(problems(given)).toEqual([message]);
  });

  test('a preview deploys it too, its tag as given', () => {
    const c = read(
      { mode: 'preview', image: `${REGISTRY}/todo:anything@${DIGEST}`, 'app-url': 'http://x:{port}' },
      { pull_request: { number: 3, head: { sha: SHA } } },
    );
    expect(c).toMatchObject({ mode: 'preview', tag: 'anything', build: false });
  });
});

describe('registry-id: a registry in another account', () => {
  test('read in every mode; empty means the caller account', () => {
    expect(read({ 'ecr-repository': 'todo', image: `${REGISTRY}/todo:v1` }).registryId).toBeUndefined();
    expect(
      read({ 'ecr-repository': 'todo', image: `${REGISTRY}/todo:v1`, 'registry-id': '210987654321' })
        .registryId,
    ).toBe('210987654321');
    // The preview's step runs its teardown too, with the same with: (image among them, unused there).
    const teardown = read(
      {
        mode: 'teardown',
        'registry-id': '210987654321',
        'delete-images': 'true',
        'ecr-repository': 'todo',
        image: `${REGISTRY}/todo:v1`,
      },
      { pull_request: { number: 3 } },
    );
    expect(teardown.registryId).toBe('210987654321');
  });

  test.each(['12345', '1234567890123', 'tools', '123456789012.dkr.ecr.us-east-1.amazonaws.com'])(
    '%s: one problem',
    (id) => {
      expect(problems({ image: `${REGISTRY}/todo:v1`, 'registry-id': id })).toEqual([
        `registry-id "${id}" is not an AWS account id (12 digits, e.g. 123456789012): set it to the account that owns the registry, or leave it empty for your own`,
      ]);
    },
  );
});
