// The GitHub API fake (e2e/github-api.ts) held to GitHub's published REST API description
// (@octokit/openapi, api.github.com): every route the fake serves is described with that method, and
// every request the action's own code sends (src/github/pull-request.ts through Octokit) and every answer of
// the fake are checked on the wire against the described parameters, request body and response
// schemas. GraphQL's viewer query is left aside (the description is of REST).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { GitHubApi, type Author } from '../../e2e/github-api.js';
import {
  GITHUB_API,
  bodySchema,
  checkSchema,
  findOperation,
  parameters,
  responseSchema,
  type Schema,
} from '../helpers/openapi.js';
import { recordingProxy, type Crossed } from '../helpers/recording-proxy.js';

jest.unstable_mockModule('@actions/core', () => ({ warning: jest.fn(), info: jest.fn() }));

/** The routes the fake serves, besides POST /graphql. */
const ROUTES: [string, string][] = [
  ['POST', '/repos/{owner}/{repo}/deployments'],
  ['GET', '/repos/{owner}/{repo}/deployments'],
  ['POST', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
];

/**
 * Statuses GitHub answers on any route, described or not: a token GitHub does not take (401), one
 * without the permission (403, "Resource not accessible by integration"), what is not there (404);
 * each with GitHub's basic error.
 */
const COMMON_STATUSES = [401, 403, 404];

interface Exchange {
  method: string;
  url: string;
  request?: unknown;
  status: number;
  response: unknown;
}

const api = new GitHubApi();
const STRANGER: Author = { login: 'mallory', type: 'User' };
const exchanges: Exchange[] = [];
let proxy: http.Server;
let base: string;
let checks = 0;
let PreviewFeedback: typeof import('../../src/github/pull-request.js').PreviewFeedback;

/** Every exchange with the fake, recorded as it crossed the proxy. */
const recordExchange = ({ req, body, status, text }: Crossed) =>
  exchanges.push({
    method: req.method!,
    url: req.url!,
    request: body.length ? JSON.parse(body.toString('utf8')) : undefined,
    status,
    response: text ? JSON.parse(text) : undefined,
  });

/** A parameter's value as the description types it: path and query values are text on the wire. */
const typed = (schema: Schema, value: string): unknown =>
  schema.type === 'integer' && /^-?\d+$/.test(value)
    ? Number(value)
    : schema.type === 'boolean' && /^(true|false)$/.test(value)
      ? value === 'true'
      : value;

/** Where an exchange differs from the description: route, parameters, request body, answer. */
function problemsOf(x: Exchange): string[] {
  const url = new URL(x.url, 'http://x');
  const at = `${x.method} ${x.url} -> ${x.status}`;
  const found = findOperation(GITHUB_API, x.method, url.pathname);
  if (!found) {
    // GitHub answers a route it does not have with 404 and its basic error.
    const basicError = GITHUB_API.components.schemas['basic-error'] as Schema;
    if (x.status !== 404) return [`${at}: no such route in the description`];
    return checkSchema(GITHUB_API, basicError, x.response, 'answer').map((p) => `${at}: ${p}`);
  }
  const { operation } = found;
  const problems: string[] = [];
  const described = parameters(GITHUB_API, operation);
  for (const [name, value] of Object.entries(found.params)) {
    const p = described.find((d) => d.in === 'path' && d.name === name);
    if (!p) problems.push(`path parameter ${name}: not described`);
    else problems.push(...checkSchema(GITHUB_API, p.schema, typed(p.schema, value), `path ${name}`));
  }
  for (const [name, value] of url.searchParams) {
    const p = described.find((d) => d.in === 'query' && d.name === name);
    if (!p) problems.push(`query parameter ${name}: not described`);
    else problems.push(...checkSchema(GITHUB_API, p.schema, typed(p.schema, value), `query ${name}`));
  }
  checks++;
  const requestSchema = bodySchema(GITHUB_API, operation.requestBody);
  if (x.request !== undefined) {
    if (!requestSchema) problems.push('a request body where none is described');
    else problems.push(...checkSchema(GITHUB_API, requestSchema, x.request, 'request'));
    checks++;
  } else if (operation.requestBody?.required) problems.push('no request body, which is required');
  let answer = responseSchema(GITHUB_API, operation, x.status);
  if (answer === undefined && COMMON_STATUSES.includes(x.status))
    answer = GITHUB_API.components.schemas['basic-error'] as Schema;
  if (answer === undefined)
    problems.push(`HTTP ${x.status} is not described (${Object.keys(operation.responses).join(', ')})`);
  else if (answer !== null) problems.push(...checkSchema(GITHUB_API, answer, x.response, 'answer'));
  checks++;
  return problems.map((p) => `${at} (${operation.operationId}): ${p}`);
}

beforeAll(async () => {
  const fake = new URL(await api.start());
  proxy = recordingProxy({ host: fake.hostname, port: Number(fake.port) }, recordExchange);
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  process.env.GITHUB_API_URL = base;
  process.env.GITHUB_REPOSITORY = 'example/todobackend';
  process.env.GITHUB_SERVER_URL = 'https://github.example';
  process.env.GITHUB_RUN_ID = '77';
  ({ PreviewFeedback } = await import('../../src/github/pull-request.js'));
});

afterAll(async () => {
  await new Promise<void>((r) => proxy?.close(() => r()));
  await api.stop();
});

/** The REST exchanges a step made, each checked against the description. */
async function conforming(step: () => Promise<unknown>): Promise<Exchange[]> {
  const from = exchanges.length;
  await step();
  const made = exchanges.slice(from).filter((x) => !x.url.startsWith('/graphql'));
  expect(made.length).toBeGreaterThan(0);
  expect(made.flatMap(problemsOf)).toEqual([]);
  return made;
}

const answers = (made: Exchange[]) =>
  made.map((x) => `${x.method} ${new URL(x.url, base).pathname} ${x.status}`);

describe("the action's requests and the fake's answers", () => {
  test('a deployment: created, in progress, successful', async () => {
    const f = new PreviewFeedback('token', 42, 'todo-pr-42');
    const made = await conforming(async () => {
      await f.start('abc1234');
      await f.finish('success', 'http://lb:20042');
    });
    expect(answers(made)).toEqual([
      'POST /repos/example/todobackend/deployments 201',
      `POST /repos/example/todobackend/deployments/${f.deploymentId}/statuses 201`,
      `POST /repos/example/todobackend/deployments/${f.deploymentId}/statuses 201`,
    ]);
  });

  test("the pull request's comment: listed among a stranger's, created, then updated", async () => {
    api.addComment(43, 'hello', STRANGER);
    const f = new PreviewFeedback('token', 43, 'todo-pr-43');
    const made = await conforming(async () => {
      await f.comment('todo-pr-43', 'first');
      await f.comment('todo-pr-43', 'second');
    });
    expect(answers(made)).toEqual([
      'GET /repos/example/todobackend/issues/43/comments 200',
      'POST /repos/example/todobackend/issues/43/comments 201',
      'GET /repos/example/todobackend/issues/43/comments 200',
      expect.stringMatching(/^PATCH \/repos\/example\/todobackend\/issues\/comments\/\d+ 200$/),
    ]);
  });

  test("teardown: the environment's deployments listed and made inactive", async () => {
    const made = await conforming(() => new PreviewFeedback('token', 42, 'todo-pr-42').deactivate());
    expect(answers(made)[0]).toBe('GET /repos/example/todobackend/deployments 200');
    expect(made.slice(1).map((x) => (x.request as { state: string }).state)).toEqual(['inactive']);
  });

  test('a token without the permissions: 403', async () => {
    api.refuse = true;
    try {
      const made = await conforming(() => new PreviewFeedback('token', 44, 'todo-pr-44').start('abc1234'));
      expect(answers(made)).toEqual(['POST /repos/example/todobackend/deployments 403']);
    } finally {
      api.refuse = false;
    }
  });
});

describe("the fake's answers to what is not there", () => {
  test('a status of a deployment that does not exist, an update of a comment that does not exist: 404', async () => {
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const made = await conforming(async () => {
      await send('POST', '/repos/example/todobackend/deployments/99999/statuses', { state: 'success' });
      await send('PATCH', '/repos/example/todobackend/issues/comments/99999', { body: 'x' });
    });
    expect(made.map((x) => x.status)).toEqual([404, 404]);
  });

  test('a method a route does not have: 404', async () => {
    const made = await conforming(async () => {
      await fetch(`${base}/repos/example/todobackend/issues/43/comments`, { method: 'DELETE' });
      await fetch(`${base}/repos/example/todobackend/deployments/100/statuses`, { method: 'PUT' });
    });
    expect(made.map((x) => x.status)).toEqual([404, 404]);
  });
});

describe('coverage', () => {
  test('every route the fake serves is described with its method, and was answered with success', () => {
    for (const [method, template] of ROUTES)
      expect([method, template, GITHUB_API.paths[template]?.[method.toLowerCase()]?.operationId]).toEqual([
        method,
        template,
        expect.any(String),
      ]);
    const served = new Set(ROUTES.map(([m, t]) => `${m} ${t}`));
    const rest = exchanges.filter((x) => !x.url.startsWith('/graphql'));
    const routeOf = (x: Exchange) =>
      `${x.method} ${findOperation(GITHUB_API, x.method, new URL(x.url, base).pathname)?.template}`;
    // What the fake answers with success is on a route it serves; anything else it answers 404.
    const succeeded = new Set(rest.filter((x) => x.status < 300).map(routeOf));
    expect([...succeeded].filter((r) => !served.has(r))).toEqual([]);
    expect([...served].filter((r) => !succeeded.has(r))).toEqual([]);
    expect(checks).toBeGreaterThan(30);
  });
});
