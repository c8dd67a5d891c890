import fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { readTestContainer } from '../../src/config/acceptance.js';
import { INPUT_DEFAULTS } from '../../src/config/input-defaults.js';
import { Inputs } from '../../src/config/inputs.js';

/** The test container's inputs as the runner sets them: action.yml's defaults, then the step's with:. */
function read(given: Record<string, string>) {
  const inputs = new Inputs((name) => ({ ...INPUT_DEFAULTS, ...given })[name] ?? '');
  return { container: readTestContainer(inputs), problems: inputs.problems };
}

describe('the test container: acceptance-image, acceptance-entrypoint, acceptance-command, acceptance-args', () => {
  test("by default: the deployed image, its own entrypoint, the fixture's command", () => {
    expect(read({})).toEqual({
      container: {
        acceptanceImage: undefined,
        acceptanceEntrypoint: undefined,
        acceptanceCommand: ['bats', '/app/src/acceptance.bats'],
        acceptanceArgs: [],
      },
      problems: [],
    });
  });

  test('a separate test image, and an entrypoint that runs the command instead of the server', () => {
    expect(
      read({
        'acceptance-image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-tests:abc1234',
        'acceptance-entrypoint': 'bats',
        'acceptance-command': '/tests/smoke.bats',
      }),
    ).toEqual({
      container: {
        acceptanceImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-tests:abc1234',
        acceptanceEntrypoint: 'bats',
        acceptanceCommand: ['/tests/smoke.bats'],
        acceptanceArgs: [],
      },
      problems: [],
    });
  });

  test.each([
    'bats/bats:1.11.0',
    'alpine',
    'localhost:5000/notes-tests',
    'ghcr.io/example/notes-tests:v1.2.3',
    `127.0.0.1:5000/notes/tests:pr-3-abc1234@sha256:${'a'.repeat(64)}`,
    `registry.example.com/notes__tests@sha256:${'0'.repeat(64)}`,
  ])('acceptance-image %s is an image reference', (image) => {
    expect(read({ 'acceptance-image': image }).problems).toEqual([]);
  });

  test.each([
    'Notes-Tests:1',
    'notes tests',
    'https://registry.example.com/notes-tests',
    'notes-tests:',
    'notes-tests@sha256:abc',
    'registry.example.com/notes-tests:-bad',
  ])('acceptance-image %j is refused', (image) => {
    expect(read({ 'acceptance-image': image }).problems).toEqual([
      `acceptance-image "${image}" is not an image reference: [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-tests:abc1234 or bats/bats:1.11.0`,
    ]);
  });

  test('acceptance-entrypoint is one word: its arguments belong in acceptance-command', () => {
    expect(read({ 'acceptance-entrypoint': 'sh -c', 'acceptance-command': 'bats /tests' }).problems).toEqual([
      'acceptance-entrypoint "sh -c" must be one word, the program the test container starts (e.g. bats or /bin/sh): put its arguments in acceptance-command',
    ]);
  });

  test('an entrypoint that acceptance-command starts with again is refused: it would run twice', () => {
    expect(
      read({ 'acceptance-entrypoint': '/usr/bin/bats', 'acceptance-command': 'bats /tests/api.bats' })
        .problems,
    ).toEqual([
      'acceptance-entrypoint "/usr/bin/bats" is the first word of acceptance-command "bats /tests/api.bats" too, so the container would run bats bats ...: with acceptance-entrypoint, set acceptance-command to only its arguments (/tests/api.bats)',
    ]);
  });

  test("the same with acceptance-command's default, which the user never set: the message says so", () => {
    expect(read({ 'acceptance-entrypoint': 'bats' }).problems).toEqual([
      'acceptance-entrypoint "bats" is the first word of acceptance-command\'s default ("bats /app/src/acceptance.bats") too, so the container would run bats bats ...: with acceptance-entrypoint, set acceptance-command to only its arguments (/app/src/acceptance.bats)',
    ]);
  });
});

test('action.yml: acceptance-image and acceptance-entrypoint have no default (empty: the deployed image, its entrypoint)', () => {
  const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  for (const name of ['acceptance-image', 'acceptance-entrypoint']) {
    expect(action.inputs[name]).toBeDefined();
    expect(action.inputs[name].default).toBeUndefined();
  }
});
