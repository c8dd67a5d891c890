import { describe, expect, test } from '@jest/globals';
import { splitArgs } from '../../src/config/inputs.js';

describe('splitArgs', () => {
  test.each([
    ['bats /app/src/acceptance.bats', ['bats', '/app/src/acceptance.bats']],
    [`  -e "A=x y"  --name 'n'`, ['-e', 'A=x y', '--name', 'n']],
    [`a\\ b "q\\"uote" ''`, ['a b', 'q"uote', '']],
    ['', []],
  ])('%j', (text, words) => {
    expect(splitArgs(text)).toEqual(words);
  });
});
