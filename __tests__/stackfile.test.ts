import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { readStackFile } from '../src/config/stackfile.js';

/** The file's problem, or undefined when it is fine. */
function checkStackFile(file: string, versionVariable: string, oneShot: string[]): string | undefined {
  const read = readStackFile([file], versionVariable, oneShot);
  return 'problem' in read ? read.problem : undefined;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stackfile-'));
function file(text: string): string {
  const f = path.join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(f, text);
  return f;
}

const fixture = path.resolve('e2e/fixture/stack.yml');

describe('checkStackFile', () => {
  test("a fine file's service names", () => {
    expect(readStackFile([fixture], 'APP_VERSION', ['migrate'])).toEqual({
      services: ['db', 'app', 'migrate'],
      version: '3.7',
      everyImagePinned: true,
      jobs: [],
    });
  });

  test('the fixture stacks are fine', () => {
    expect(checkStackFile(fixture, 'APP_VERSION', ['migrate'])).toBeUndefined();
    expect(
      checkStackFile(path.resolve('e2e/fixture/stack-job.yml'), 'APP_VERSION', ['migrate']),
    ).toBeUndefined();
  });

  test.each<[string, string, string[], RegExp]>([
    ['not YAML', 'services: [unclosed', [], /is not valid YAML/],
    ['no services', 'version: "3.7"\n', [], /has no services: section/],
    [
      'image without the version variable',
      'services:\n  app:\n    image: repo:latest\n',
      [],
      /no service image uses \$\{APP_VERSION\}/,
    ],
    [
      'one-shot missing',
      'services:\n  app:\n    image: r:${APP_VERSION}\n',
      ['migrate'],
      /has no service "migrate"/,
    ],
    [
      'one-shot that restarts on success',
      'services:\n  app:\n    image: r:${APP_VERSION}\n  migrate:\n    image: r:${APP_VERSION}\n',
      ['migrate'],
      /one-shot service "migrate" restarts even after it succeeds/,
    ],
  ])('%s', (_name, text, oneShot, message) => {
    expect(checkStackFile(file(text), 'APP_VERSION', oneShot)).toMatch(message);
  });

  test('$VAR without braces and another variable name count', () => {
    expect(checkStackFile(file('services:\n  app:\n    image: r:$TAG\n'), 'TAG', [])).toBeUndefined();
    expect(checkStackFile(file('services:\n  app:\n    image: r:${TAGGED}\n'), 'TAG', [])).toMatch(
      /no service image/,
    );
  });

  test('several files are checked together: an override adds a service and fixes a restart policy', () => {
    const base = file(
      'version: "3.7"\nservices:\n  app:\n    image: r:${APP_VERSION}\n  migrate:\n    image: r:x\n',
    );
    const prod = file(
      'services:\n  migrate:\n    deploy:\n      restart_policy:\n        condition: on-failure\n  worker:\n    image: r:w\n',
    );
    expect(readStackFile([base], 'APP_VERSION', ['migrate'])).toEqual({
      problem: expect.stringMatching(/one-shot service "migrate" restarts even after it succeeds/),
    });
    expect(readStackFile([base, prod], 'APP_VERSION', ['migrate'])).toEqual({
      services: ['app', 'migrate', 'worker'],
      version: '3.7',
      everyImagePinned: false,
      jobs: [],
    });
    // The later file's image wins: without the version variable, the deploy would not change the image.
    const pinned = file('services:\n  app:\n    image: r:latest\n');
    expect(readStackFile([base, prod, pinned], 'APP_VERSION', ['migrate'])).toEqual({
      problem: expect.stringContaining(`"${base}" + "${prod}" + "${pinned}": no service image uses`),
    });
    expect(readStackFile([base, '/nope.yml'], 'APP_VERSION', [])).toEqual({
      problem: expect.stringMatching(/^"\/nope.yml" does not exist/),
    });
  });

  test('an unquoted version is the text docker reads: 3.8, not a number', () => {
    expect(
      readStackFile(
        [file('version: 3.8\nservices:\n  app:\n    image: r:${APP_VERSION}\n')],
        'APP_VERSION',
        [],
      ),
    ).toEqual({
      services: ['app'],
      version: '3.8',
      everyImagePinned: true,
      jobs: [],
    });
  });

  test('every image pinned: by the version variable, or by a digest the stack file names', () => {
    const pinned = (images: string[]) => {
      const text = `services:\n${images.map((image, i) => `  s${i}:\n    image: ${image}\n`).join('')}`;
      const read = readStackFile([file(text)], 'APP_VERSION', []);
      return 'everyImagePinned' in read && read.everyImagePinned;
    };
    expect(pinned(['r:${APP_VERSION}', `postgres:16@sha256:${'a'.repeat(64)}`])).toBe(true);
    expect(pinned(['r:${APP_VERSION}', 'postgres:16'])).toBe(false);
    expect(pinned(['r:${APP_VERSION}', 'redis'])).toBe(false);
  });

  test('a missing file', () => {
    expect(checkStackFile('/nope.yml', 'APP_VERSION', [])).toMatch(/"\/nope.yml" does not exist/);
  });
});
