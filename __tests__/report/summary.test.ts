import { describe, expect, test } from '@jest/globals';
import {
  describeAcceptanceFailure,
  renderInputProblems,
  renderPreviewComment,
  renderSummary,
  type Report,
} from '../../src/report/summary.js';
import { judgeAcceptance } from '../../src/runner/acceptance.js';

const base: Report = {
  mode: 'deploy',
  ok: true,
  phases: [
    { name: 'ECR login', started: 0, seconds: 0.42, status: 'ok' },
    { name: 'Build and push', started: 0.42, seconds: 12.3, status: 'ok' },
  ],
  stack: 'todobackend',
  image: 'r/todo:abc1234',
  digest: 'sha256:0123',
  url: 'http://lb',
  services: [
    {
      name: 'todobackend_app',
      mode: 'Replicated',
      tasks: '2/2',
      image: 'r/todo:abc1234',
      update: 'completed',
    },
  ],
  oneShots: [
    {
      service: 'todobackend_migrate',
      state: 'complete',
      detail: 'completed with exit code 0 (task t1)',
      attempts: { used: 2, max: 7 },
    },
  ],
};

describe('renderSummary', () => {
  test('overlapping phases: listed by start, the total is the wall time', () => {
    const md = renderSummary({
      ...base,
      phases: [
        { name: 'One-shot services', started: 1, seconds: 2, status: 'ok' },
        { name: 'Acceptance tests', started: 3.5, seconds: 3, status: 'ok' },
        { name: 'Converge', started: 1, seconds: 4, status: 'ok' },
      ],
    });
    expect(md).toContain(
      '| One-shot services | ✅ ok | +1.0 s | 2.0 s |\n| Converge | ✅ ok | +1.0 s | 4.0 s |\n| Acceptance tests |',
    );
    expect(md).toContain('| **Total** | | | **6.5 s** |');
  });

  test('a successful deploy: facts, phases with total, services, one-shots, tests', () => {
    const md = renderSummary({
      ...base,
      acceptance: judgeAcceptance('1..2\nok 1 root | answers\nok 2 list\n', 0),
    });
    expect(md).toContain('## ✅ Deployed todobackend');
    expect(md).toContain('| Digest | `sha256:0123` |');
    expect(md).toContain('| Build and push | ✅ ok | +0.4 s | 12.3 s |');
    expect(md).toContain('| **Total** | | | **12.7 s** |');
    expect(md).toContain('| todobackend_app | Replicated | 2/2 | `r/todo:abc1234` | completed |');
    expect(md).toContain(
      '| todobackend_migrate | complete | 2 of 7 | completed with exit code 0 (task t1) |',
    );
    expect(md).toContain('### Acceptance tests: 2 passed, 0 failed');
    expect(md).toContain('| 1 | root \\| answers | ✅ pass |');
  });

  test("release records: what a deploy recorded, what promote released on, and promote-untested's warning", () => {
    expect(renderSummary({ ...base, recorded: 'passed-abc1234' })).toContain(
      '| Outcome recorded | `passed-abc1234` on the image in ECR |',
    );
    const promoted = { ...base, mode: 'promote' as const, promoted: ['v1.2.3'] };
    expect(renderSummary({ ...promoted, passedRecord: 'passed-abc1234' })).toContain(
      '| Release check | a deploy passed with this image (`passed-abc1234`) |',
    );
    expect(renderSummary({ ...promoted, untested: true })).toContain(
      '| Release check | ⚠️ skipped (promote-untested: true): released whatever its deploy came to |',
    );
    expect(renderSummary(base)).not.toMatch(/Release check|Outcome recorded/);
  });

  test('the services prune removed are named', () => {
    expect(renderSummary({ ...base, pruned: ['todobackend_worker'] })).toContain(
      'Removed (prune: the stack file no longer has them): `todobackend_worker`',
    );
    expect(renderSummary(base)).not.toContain('Removed (prune');
  });

  test('a failure: the reason, the failing task logs and the failing test details', () => {
    const md = renderSummary({
      ...base,
      ok: false,
      failure: 'todobackend_migrate failed after 4 attempts\nmore',
      oneShots: [
        {
          service: 'todobackend_migrate',
          state: 'failed',
          detail: 'failed after 4 attempts',
          logs: 'ERROR ```x```\n',
        },
      ],
      acceptance: judgeAcceptance('1..1\nnot ok 1 create a todo\n# (in test file a.bats, line 3)\n', 1),
    });
    expect(md).toContain('## ❌ Deploy of todobackend failed');
    expect(md).toContain('**Failure:** todobackend_migrate failed after 4 attempts\n');
    expect(md).toContain(
      "<summary>Last log lines of todobackend_migrate</summary>\n\n```text\nERROR '''x'''\n```",
    );
    expect(md).toContain('| 1 | create a todo | ❌ fail |');
    expect(md).toContain('<summary>create a todo</summary>\n\n```text\n(in test file a.bats, line 3)\n```');
  });
});

test('renderInputProblems lists each problem and says nothing was deployed', () => {
  expect(renderInputProblems(['ssh-host is required: x', 'stack-name is required: y'])).toBe(
    '## ❌ Inputs need fixing\n\nNothing was deployed.\n\n- ssh-host is required: x\n- stack-name is required: y\n',
  );
});

describe('the pull request comment: posted through the API, so nothing in it is masked by the runner', () => {
  const hostile: Report = {
    mode: 'preview',
    ok: false,
    commit: 'abc1234',
    phases: [],
    stack: 'todo-pr-3',
    url: 'https://deploy:hunter2@pr-3.preview.example.com/',
    image: 'r/todo:pr-3-abc1234',
    services: [],
    oneShots: [],
    failure:
      'todo-pr-3_migrate failed: <img src=x onerror=alert(1)> @octocat [click](https://evil.example) s3cr3t-value\nlog line 2',
    acceptance: judgeAcceptance(
      'ok 1 lists </details> todos @admins\nnot ok 2 creates [a link](https://evil.example)\n# s3cr3t-value in the output\n1..2\n',
      1,
    ),
  };
  const body = renderPreviewComment(hostile, 'https://github.example/run/1', (text) =>
    text.replaceAll('s3cr3t-value', '***'),
  );

  test('known secret values are masked', () => {
    expect(body).not.toContain('s3cr3t-value');
  });

  test('no credentials from the URL', () => {
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('deploy:');
    expect(body).toContain('pr-3.preview.example.com');
  });

  test('no HTML, mention or link from test names or failures; no test output at all', () => {
    expect(body).not.toMatch(/(^|[^\\])<(img|\/details|details)/);
    expect(body).not.toMatch(/(^|[^\\])@(octocat|admins)/);
    expect(body).not.toMatch(/(^|[^\\])\[(click|a link)\]\(/);
    expect(body).not.toContain('in the output');
    expect(body).not.toContain('log line 2');
    // The reason and the tests' names are still there, escaped.
    expect(body).toContain('todo-pr-3_migrate failed: \\<img src=x');
    expect(body).toContain('| 2 | creates \\[a link\\](https://evil.example) | ❌ fail |');
  });
});

// TAP as bats 1.8 prints it (captured from the fixture's suite in the sandbox).
const failing = `1..3
ok 1 root answers 200
not ok 2 update a todo with PATCH
# (in test file /app/src/acceptance.bats, line 56)
#   \`[ "$status" = 200 ]' failed
ok 3 delete a todo
`;

describe('the step error and the job summary of tests that explain nothing by themselves', () => {
  const report = {
    ...judgeAcceptance('', 1),
    output:
      'curl: (7) Failed to connect to https://deploy:hunter2@lb:8500/notes\nbash: cd: /app/src: No such file or directory',
  };

  test('the error: the problem, then the last lines, URL credentials left out', () => {
    expect(describeAcceptanceFailure(report)).toBe(
      `acceptance tests failed: ${report.problem}\nLast lines the test container printed (output, then errors):\ncurl: (7) Failed to connect to https://lb:8500/notes\nbash: cd: /app/src: No such file or directory`,
    );
  });

  test('the summary: the problem, then the last lines in a block', () => {
    const md = renderSummary({
      mode: 'deploy',
      ok: false,
      phases: [],
      services: [],
      oneShots: [],
      acceptance: report,
    });
    expect(md).toContain(`**${report.problem}**`);
    expect(md).toContain(
      '<details open><summary>Last lines the test container printed (output, then errors)</summary>\n\n```text\ncurl: (7) Failed to connect to https://lb:8500/notes\nbash: cd: /app/src: No such file or directory\n```',
    );
    expect(md).not.toContain('hunter2');
  });

  test('a container that printed nothing says so', () => {
    const silent = { ...report, output: '' };
    expect(describeAcceptanceFailure(silent)).toBe(
      `acceptance tests failed: ${report.problem}\nThe test container printed nothing.`,
    );
    expect(
      renderSummary({
        mode: 'deploy',
        ok: false,
        phases: [],
        services: [],
        oneShots: [],
        acceptance: silent,
      }),
    ).toContain(`**${report.problem}**\n\nThe test container printed nothing.\n`);
  });

  test('failing tests: the error names them', () => {
    expect(describeAcceptanceFailure(judgeAcceptance(failing, 1))).toBe(
      '1 acceptance test(s) failed: update a todo with PATCH',
    );
  });
});
