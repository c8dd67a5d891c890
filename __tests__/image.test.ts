import { describe, expect, test } from '@jest/globals';
import { buildArgs, digestOf, imageName } from '../src/registry/image.js';
import type { BuildSpec } from '../src/config/index.js';

const base: BuildSpec = { context: '/w', args: [], labels: {}, from: 'the context input' };

describe('buildArgs', () => {
  test.each<[string, Partial<BuildSpec>, string[]]>([
    ['plain', {}, ['build', '--tag', 'r/x:1', '/w']],
    [
      'every option (the Dockerfile from the context)',
      { dockerfile: 'docker/Dockerfile', args: ['A=1', 'B=x y'], target: 'release', context: '/w/app' },
      [
        'build',
        '--tag',
        'r/x:1',
        '--tag',
        'r/x:latest',
        '--file',
        '/w/app/docker/Dockerfile',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=x y',
        '--target',
        'release',
        '/w/app',
      ],
    ],
  ])('%s', (_name, overrides, args) => {
    const refs = overrides.target ? ['r/x:1', 'r/x:latest'] : ['r/x:1'];
    expect(buildArgs({ ...base, ...overrides }, refs)).toEqual(args);
  });
});

test('imageName', () => {
  expect(imageName('1.dkr.ecr.eu-west-1.amazonaws.com', 'a/b', 'abc1234')).toBe(
    '1.dkr.ecr.eu-west-1.amazonaws.com/a/b:abc1234',
  );
});

describe('digestOf', () => {
  const digests = ['127.0.0.1:5000/todo@sha256:aaa', '127.0.0.1:5000/todo-other@sha256:bbb'];
  test('picks the digest of this repository, not of a repository with a longer name', () => {
    expect(digestOf(digests, '127.0.0.1:5000/todo')).toBe('sha256:aaa');
    expect(digestOf(digests, '127.0.0.1:5000/todo-other')).toBe('sha256:bbb');
    expect(digestOf(digests, '127.0.0.1:5000/none')).toBeUndefined();
  });
});
