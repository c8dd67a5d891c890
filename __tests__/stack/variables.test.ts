// The variables a stack file uses, as docker's pattern finds them: for the messages that keep a
// variable from deploying blank.
import { describe, expect, test } from '@jest/globals';
import { unsetVariableProblems, variableUses } from '../../src/stack/variables.js';

describe('variableUses', () => {
  test.each([
    [
      '${A} $B $$C ${D:-x} ${E-x} ${F:?no} $G-x',
      ['A', 'B', 'D', 'E', 'F', 'G'],
      [false, false, true, true, false, true],
    ],
    ['$valueOf/var/run', ['valueOf'], [false]],
    // Go's (?i) folds ſ to s and K (Kelvin) to k: both are letters of a name there.
    ['$ſ/x ${K_A}', ['ſ', 'K_A'], [false, false]],
    ['price $$5, ${Stack_NAME}', ['Stack_NAME'], [false]],
  ])('%s', (text, names, defaulted) => {
    const uses = variableUses(text);
    expect(uses.map((u) => u.name)).toEqual(names);
    expect(uses.map((u) => u.defaulted)).toEqual(defaulted);
  });
});

describe('unsetVariableProblems', () => {
  const file = {
    name: 'stack.yml',
    text: 'services:\n  app:\n    image: ${ECR_REGISTRY}/a:${APP_VERSION}\n    volumes: ["${EFS_DIR}:/static", "${HOME:-/root}:/h"]\n    environment: { URL: $DATABASE_URL }\n',
  };
  const runVariables = new Set(['ECR_REGISTRY', 'APP_VERSION']);

  test('deploy: a variable without a default that the deploy does not set, named with its fix (the step has EFS_DIR)', () => {
    expect(
      unsetVariableProblems([file], {
        runVariables,
        stepEnv: { EFS_DIR: '/mnt/efs' },
        preview: false,
      }),
    ).toEqual([
      'stack-file "stack.yml" uses ${EFS_DIR}, which the deploy does not set, so docker would deploy it blank: the step\'s environment has EFS_DIR: add a line EFS_DIR to stack-env to pass it',
      'stack-file "stack.yml" uses ${DATABASE_URL}, which the deploy does not set, so docker would deploy it blank: set it in stack-env (DATABASE_URL=VALUE) or env-file, or give it a default (${DATABASE_URL:-VALUE})',
    ]);
  });

  test("preview: any variable the run does not give, with a default or not; never the step's", () => {
    expect(
      unsetVariableProblems([file], { runVariables, stepEnv: { EFS_DIR: '/mnt/efs' }, preview: true }),
    ).toEqual([
      'stack-file "stack.yml" uses ${EFS_DIR}, which the run does not give it (a preview uses only the run\'s own variables): set it in stack-env (EFS_DIR=VALUE) or env-file',
      'stack-file "stack.yml" uses ${HOME}, which the run does not give it (a preview uses only the run\'s own variables): set it in stack-env (HOME=VALUE) or env-file',
      'stack-file "stack.yml" uses ${DATABASE_URL}, which the run does not give it (a preview uses only the run\'s own variables): set it in stack-env (DATABASE_URL=VALUE) or env-file',
    ]);
  });

  test('a file our reader cannot read is left to docker', () => {
    expect(
      unsetVariableProblems([{ name: 'x.yml', text: 'a: [' }], {
        runVariables,
        stepEnv: {},
        preview: false,
      }),
    ).toEqual([]);
  });
});
