// input-defaults.ts is generated from action.yml (npm run docs); docs.test.ts holds the file to what
// the generator writes, and this test holds the table to action.yml itself.
import fs from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { INPUT_DEFAULTS } from '../../src/config/input-defaults.js';
import { Inputs } from '../../src/config/inputs.js';

const action = parse(fs.readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

describe('INPUT_DEFAULTS', () => {
  test("every default of action.yml but github-token's expression, which the runner evaluates", () => {
    const fromFile = Object.fromEntries(
      Object.entries(action.inputs)
        .filter(([, spec]) => spec.default !== undefined && !String(spec.default).includes('${{'))
        .map(([name, spec]) => [name, String(spec.default)]),
    );
    expect(INPUT_DEFAULTS).toEqual(fromFile);
    expect(INPUT_DEFAULTS).not.toHaveProperty('github-token');
  });

  test('an input given empty reads as its default', () => {
    const inputs = new Inputs(() => '  ');
    expect(inputs.get('converge-timeout')).toBe('300');
    expect(inputs.get('github-token')).toBe('');
  });
});
