import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { GitHubApi, TOKEN_AUTHOR, TOKEN_VIEWER, type Author } from '../../e2e/github-api.js';

const warning = jest.fn();
jest.unstable_mockModule('@actions/core', () => ({ warning, info: jest.fn() }));

const api = new GitHubApi();
const STRANGER: Author = { login: 'mallory', type: 'User' };
const marker = (stack: string) => `<!-- ecr-swarm-deploy preview ${stack} -->`;
let PreviewFeedback: typeof import('../../src/github/pull-request.js').PreviewFeedback;

beforeAll(async () => {
  process.env.GITHUB_API_URL = await api.start();
  process.env.GITHUB_REPOSITORY = 'example/todobackend';
  process.env.GITHUB_SERVER_URL = 'https://github.example';
  process.env.GITHUB_RUN_ID = '77';
  ({ PreviewFeedback } = await import('../../src/github/pull-request.js'));
});
afterAll(() => api.stop());

describe('preview feedback through the GitHub API', () => {
  test('a deployment for the head commit: in progress, then successful with the preview URL', async () => {
    const f = new PreviewFeedback('token', 42, 'todo-pr-42');
    await f.start('abc1234');
    await f.finish('success', 'http://lb:20042');
    const [d] = api.deploymentsOf('todo-pr-42');
    expect(f.deploymentId).toBe(d.id);
    expect(d.payload).toEqual({
      ref: 'abc1234',
      environment: 'todo-pr-42',
      description: 'Preview of pull request #42',
      auto_merge: false,
      required_contexts: [],
      transient_environment: true,
      production_environment: false,
    });
    expect(d.statuses).toEqual([
      {
        state: 'in_progress',
        log_url: 'https://github.example/example/todobackend/actions/runs/77',
        auto_inactive: false,
      },
      {
        state: 'success',
        log_url: 'https://github.example/example/todobackend/actions/runs/77',
        environment_url: 'http://lb:20042',
        auto_inactive: true,
      },
    ]);
  });

  test('the comment is created once, then updated in place', async () => {
    const f = new PreviewFeedback('token', 43, 'todo-pr-43');
    await f.comment('todo-pr-43', 'first');
    await f.comment('todo-pr-43', 'second');
    // Another stack's comment on the same pull request is its own.
    await f.comment('other-pr-43', 'third');
    const mine = api.comments.filter((c) => c.issue === 43);
    expect(mine.map((c) => c.body)).toEqual([
      '<!-- ecr-swarm-deploy preview todo-pr-43 -->\nsecond',
      '<!-- ecr-swarm-deploy preview other-pr-43 -->\nthird',
    ]);
    expect(api.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  test("a stranger's comment with the marker is left alone: the action posts its own", async () => {
    const forged = `${marker('todo-pr-47')}\nforged`;
    const stranger = api.addComment(47, forged, STRANGER);
    const sent = api.requests.length;
    await new PreviewFeedback('token', 47, 'todo-pr-47').comment('todo-pr-47', 'the preview');
    expect(api.comments.filter((c) => c.issue === 47)).toEqual([
      { id: stranger.id, issue: 47, body: forged, user: STRANGER },
      { id: expect.any(Number), issue: 47, body: `${marker('todo-pr-47')}\nthe preview`, user: TOKEN_AUTHOR },
    ]);
    expect(api.requests.slice(sent).map((r) => r.method)).not.toContain('PATCH');
  });

  test("the action's own comment is updated, not a stranger's before it; the identity is asked once", async () => {
    const forged = `${marker('todo-pr-48')}\nforged`;
    api.addComment(48, forged, STRANGER);
    const own = api.addComment(48, `${marker('todo-pr-48')}\nold`, TOKEN_AUTHOR);
    const sent = api.requests.length;
    const f = new PreviewFeedback('token', 48, 'todo-pr-48');
    await f.comment('todo-pr-48', 'first');
    await f.comment('todo-pr-48', 'second');
    expect(api.comments.filter((c) => c.issue === 48).map((c) => [c.user.login, c.body])).toEqual([
      ['mallory', forged],
      ['github-actions[bot]', `${marker('todo-pr-48')}\nsecond`],
    ]);
    const calls = api.requests.slice(sent);
    expect(calls.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/example/todobackend/issues/comments/${own.id}`,
      `/repos/example/todobackend/issues/comments/${own.id}`,
    ]);
    expect(calls.filter((r) => r.path === '/graphql')).toHaveLength(1);
  });

  test("a personal token's own comment is found by its login", async () => {
    api.viewer = 'octocat';
    try {
      api.addComment(49, `${marker('todo-pr-49')}\nforged`, STRANGER);
      api.addComment(49, `${marker('todo-pr-49')}\nold`, { login: 'octocat', type: 'User' });
      await new PreviewFeedback('token', 49, 'todo-pr-49').comment('todo-pr-49', 'new');
    } finally {
      api.viewer = TOKEN_VIEWER;
    }
    expect(api.comments.filter((c) => c.issue === 49).map((c) => [c.user.login, c.body])).toEqual([
      ['mallory', `${marker('todo-pr-49')}\nforged`],
      ['octocat', `${marker('todo-pr-49')}\nnew`],
    ]);
  });

  test("when the token's identity cannot be found, a new comment is posted with a warning, none edited", async () => {
    const old = `${marker('todo-pr-50')}\nold`;
    api.addComment(50, old, TOKEN_AUTHOR);
    api.viewer = undefined;
    warning.mockClear();
    const sent = api.requests.length;
    try {
      await new PreviewFeedback('token', 50, 'todo-pr-50').comment('todo-pr-50', 'new');
    } finally {
      api.viewer = TOKEN_VIEWER;
    }
    expect(api.comments.filter((c) => c.issue === 50).map((c) => c.body)).toEqual([
      old,
      `${marker('todo-pr-50')}\nnew`,
    ]);
    expect(api.requests.slice(sent).map((r) => r.method)).not.toContain('PATCH');
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toMatch(
      /could not find who the token is, so a new pull request comment is posted.*Resource not accessible/,
    );
  });

  test('teardown marks every deployment of the environment inactive', async () => {
    const f = new PreviewFeedback('token', 44, 'todo-pr-44');
    await f.start('1111111');
    await f.start('2222222');
    await new PreviewFeedback('token', 44, 'todo-pr-44').deactivate();
    expect(api.deploymentsOf('todo-pr-44').map((d) => d.statuses.at(-1)?.state)).toEqual([
      'inactive',
      'inactive',
    ]);
  });

  test('a refusal warns once, naming the permissions, and stops all further calls', async () => {
    api.refuse = true;
    warning.mockClear();
    const before = api.requests.length;
    try {
      const f = new PreviewFeedback('read-only', 45, 'todo-pr-45');
      await f.start('abc1234');
      await f.finish('success', 'http://lb');
      await f.comment('todo-pr-45', 'body');
    } finally {
      api.refuse = false;
    }
    expect(api.requests.length - before).toBe(1);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toMatch(/HTTP 403.*deployments: write, pull-requests: write.*fork/);
  });

  test('no token: no call at all', async () => {
    const before = api.requests.length;
    const f = new PreviewFeedback('', 46, 'todo-pr-46');
    await f.start('abc1234');
    await f.comment('todo-pr-46', 'body');
    expect(api.requests.length).toBe(before);
  });
});
