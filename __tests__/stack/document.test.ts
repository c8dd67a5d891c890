import { describe, expect, test } from '@jest/globals';
import {
  buildContext,
  everyImagePinned,
  isRemoteContext,
  parseRendering,
  referencesOf,
  serviceNames,
} from '../../src/stack/document.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseRendering', () => {
  test("docker's rendering: plain text, numbers, booleans, lists and maps", () => {
    const doc = parseRendering(
      'version: "3.13"\nservices:\n  app:\n    image: r/todo:abc\n    deploy:\n      replicas: 2\n    read_only: true\n  migrate:\n    image: r/todo:abc\n',
    );
    expect(serviceNames(doc)).toEqual(['app', 'migrate']);
    expect(doc.services.app).toEqual({ image: 'r/todo:abc', deploy: { replicas: 2 }, read_only: true });
  });

  test('no services section: none', () => {
    expect(parseRendering('version: "3.13"\n').services).toEqual({});
  });

  test.each<[string, string, string]>([
    [
      'a !!binary value',
      'services:\n  app:\n    image: !!binary aGVsbG8=\n',
      'is not text at services.app.image',
    ],
    [
      'a key read twice',
      'services:\n  app:\n    image: a\n    image: s3cr3t\n',
      'could not be read (DUPLICATE_KEY)',
    ],
  ])('%s is refused, quoting nothing of the document', (_, text, message) => {
    let error: Error | undefined;
    try {
      parseRendering(text);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain('s3cr3t');
    expect(error?.message).not.toContain('aGVsbG8');
  });
});

describe('what a service uses', () => {
  test('its networks (the default one when it lists none), named volumes, secrets and configs', () => {
    const doc = parseRendering(
      [
        'services:',
        '  app:',
        '    networks: { front: null, back: null }',
        '    volumes:',
        '      - { type: volume, source: data, target: /data }',
        '      - { type: bind, source: /srv, target: /srv }',
        '      - { type: tmpfs, target: /tmp }',
        '    secrets: [{ source: key, target: key }]',
        '    configs: [{ source: nginx, target: /etc/nginx.conf }]',
        '  worker: {}',
      ].join('\n'),
    );
    expect(referencesOf(doc.services.app)).toEqual({
      networks: ['front', 'back'],
      volumes: ['data'],
      secrets: ['key'],
      configs: ['nginx'],
    });
    expect(referencesOf(doc.services.worker)).toEqual({
      networks: ['default'],
      volumes: [],
      secrets: [],
      configs: [],
    });
  });
});

describe('everyImagePinned', () => {
  test('only when every image names a digest', () => {
    const pinned = { image: `r/todo:abc@${DIGEST}` };
    expect(everyImagePinned({ services: { app: pinned, proxy: pinned } })).toBe(true);
    expect(everyImagePinned({ services: { app: pinned, proxy: { image: 'nginx:1.27' } } })).toBe(false);
    expect(everyImagePinned({ services: { app: pinned, build: {} } })).toBe(false);
  });
});

describe('build contexts', () => {
  test("a build: section's context, or docker's default: the stack file's folder", () => {
    expect(buildContext({ context: '/w/proxy', dockerfile: 'Dockerfile' })).toBe('/w/proxy');
    expect(buildContext({ dockerfile: 'Dockerfile' })).toBe('.');
    expect(buildContext({})).toBe('.');
  });

  test.each([
    ['https://github.com/docker/app.git#main', true],
    ['git://example.com/app.git', true],
    ['git@github.com:docker/app.git', true],
    ['ssh://git@example.com/app.git', true],
    ['.', false],
    ['/w/proxy', false],
    ['proxy', false],
    ['./git@home', false],
  ])('%s is a URL or a git remote: %s', (context, remote) => {
    expect(isRemoteContext(context)).toBe(remote);
  });
});
