import { describe, expect, test } from '@jest/globals';
import { MAX_PORT, parsePort, splitArgs, splitAssignment } from '../../src/config/inputs.js';

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

describe('splitAssignment', () => {
  test.each([
    ['NAME=value', { name: 'NAME', value: 'value' }],
    [' com.example.team = web=ops ', { name: 'com.example.team', value: 'web=ops' }],
    ['EMPTY=', { name: 'EMPTY', value: '' }],
    ['=value', { name: '', value: 'value' }],
    ['  NAME  ', { name: 'NAME' }],
  ])('%j', (line, parts) => {
    expect(splitAssignment(line)).toEqual(parts);
  });
});

describe('parsePort', () => {
  test.each([
    ['1', 1],
    ['22', 22],
    ['65535', MAX_PORT],
  ])('%s is port %i', (text, port) => {
    expect(parsePort(text)).toBe(port);
  });

  test.each(['0', '65536', '', ' 22', '-1', '22.0', '1e3', '0x50', 'ssh'])('%j is not a port', (text) => {
    expect(parsePort(text)).toBeUndefined();
  });
});
