import { describe, expect, test } from '@jest/globals';
import { judgeAcceptance } from '../src/runner/acceptance.js';

// TAP as bats 1.8 prints it (captured from the fixture's suite in the sandbox).
const passing = `1..3
ok 1 root answers 200
ok 2 todo list is a JSON array
ok 3 create a todo # skip no database
`;

const failing = `1..3
ok 1 root answers 200
not ok 2 update a todo with PATCH
# (in test file /app/src/acceptance.bats, line 56)
#   \`[ "$status" = 200 ]' failed
ok 3 delete a todo
`;

describe('judgeAcceptance', () => {
  test('all passing (a skip is not a failure)', () => {
    const r = judgeAcceptance(passing, 0);
    expect(r).toMatchObject({ ok: true, passed: 2, failed: 0, skipped: 1 });
    expect(r.tests.map((t) => [t.id, t.name, t.result])).toEqual([
      [1, 'root answers 200', 'pass'],
      [2, 'todo list is a JSON array', 'pass'],
      [3, 'create a todo', 'skip'],
    ]);
  });

  test('a failing test is named, with the lines bats printed about it', () => {
    const r = judgeAcceptance(failing, 1);
    expect(r).toMatchObject({ ok: false, passed: 2, failed: 1 });
    expect(r.problem).toBeUndefined();
    expect(r.tests[1]).toEqual({
      id: 2,
      name: 'update a todo with PATCH',
      result: 'fail',
      details: ['(in test file /app/src/acceptance.bats, line 56)', '  `[ "$status" = 200 ]\' failed'],
    });
  });

  test.each([
    ['no TAP at all', 'Error: No such file\n', 127, /no TAP test results/],
    ['fewer tests than planned', '1..7\nnot ok 1 setup_file failed\n', 1, /ran 1 of 7 planned tests/],
    ['passing tests but a non-zero exit', '1..1\nok 1 fine\n', 2, /exited with code 2/],
    ['bail out', '1..2\nok 1 a\nBail out! db is down\n', 1, /bailed out: db is down/],
  ])('%s fails', (_name, tap, code, problem) => {
    const r = judgeAcceptance(tap, code);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatch(problem);
  });
});
