// The contract tests' validators find what they are meant to: a renamed or missing field, a wrong
// type, a value outside an enum.
import { describe, expect, test } from '@jest/globals';
import { ECR_MODEL, checkShape, operationErrors } from '../helpers/aws-model.js';
import { GITHUB_API, checkSchema, findOperation, responseSchema, type Schema } from '../helpers/openapi.js';

describe("ECR's model", () => {
  const ops = ECR_MODEL.operations;
  test('a conforming answer passes; a renamed member, a wrong type, a value outside an enum do not', () => {
    const failure = {
      imageId: { imageTag: 'x' },
      failureCode: 'ImageNotFound',
      failureReason: 'Requested image not found',
    };
    expect(checkShape(ECR_MODEL, ops.BatchGetImage.output!, { images: [], failures: [failure] })).toEqual([]);
    expect(
      checkShape(ECR_MODEL, ops.BatchGetImage.output!, {
        images: [],
        failures: [{ ...failure, failureCode: 'NotFound' }],
      }),
    ).toEqual([
      expect.stringMatching(/^\$\.failures\[0\]\.failureCode: one of .*ImageNotFound.*, got "NotFound"$/),
    ]);
    expect(checkShape(ECR_MODEL, ops.ListImages.output!, { imageIdentifiers: [] })).toEqual([
      '$.imageIdentifiers: no such member (members: imageIds, nextToken)',
    ]);
    expect(
      checkShape(ECR_MODEL, ops.GetAuthorizationToken.output!, {
        authorizationData: [{ expiresAt: '2026' }],
      }),
    ).toEqual(['$.authorizationData[0].expiresAt: epoch seconds (a number), got "2026"']);
  });

  test('a request without a required member, or with a value outside an enum', () => {
    expect(checkShape(ECR_MODEL, ops.PutImage.input!, { imageManifest: '{}' })).toEqual([
      '$.repositoryName: required member missing',
    ]);
    expect(
      checkShape(ECR_MODEL, ops.ListImages.input!, { repositoryName: 'r', filter: { tagStatus: 'tagged' } }),
    ).toEqual(['$.filter.tagStatus: one of ANY, TAGGED, UNTAGGED, got "tagged"']);
  });

  test("an operation's modelled errors, with their fault", () => {
    expect(operationErrors('PutImage')).toEqual(
      expect.arrayContaining([
        { code: 'ImageTagAlreadyExistsException', fault: 'client' },
        { code: 'ServerException', fault: 'server' },
      ]),
    );
  });
});

describe("GitHub's REST description", () => {
  const comment = findOperation(GITHUB_API, 'PATCH', '/repos/o/r/issues/comments/7')!;
  const schema = responseSchema(GITHUB_API, comment.operation, 200) as Schema;
  const user = {
    login: 'u',
    id: 1,
    node_id: 'U_1',
    avatar_url: 'https://a/1',
    gravatar_id: '',
    url: 'https://api/u',
  };
  const urls = Object.fromEntries(
    ['html_url', 'followers_url', 'following_url', 'gists_url', 'starred_url', 'subscriptions_url']
      .concat(['organizations_url', 'repos_url', 'events_url', 'received_events_url'])
      .map((k) => [k, `https://api/u/${k}`]),
  );
  const answer = {
    id: 7,
    node_id: 'IC_7',
    url: 'https://api/c/7',
    html_url: 'https://github/c/7',
    issue_url: 'https://api/i/1',
    body: 'x',
    user: { ...user, ...urls, type: 'Bot', site_admin: false },
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  };

  test('a route found by its template, with its parameters', () => {
    expect(comment.template).toBe('/repos/{owner}/{repo}/issues/comments/{comment_id}');
    expect(comment.params).toEqual({ owner: 'o', repo: 'r', comment_id: '7' });
    expect(findOperation(GITHUB_API, 'PUT', '/repos/o/r/issues/comments/7')).toBeUndefined();
  });

  test('a conforming answer passes; a renamed field, a wrong type, a bad date-time do not', () => {
    expect(checkSchema(GITHUB_API, schema, answer)).toEqual([]);
    const { html_url, ...rest } = answer;
    expect(checkSchema(GITHUB_API, schema, { ...rest, htmlUrl: html_url })).toEqual([
      '$.html_url: required property missing',
      expect.stringMatching(/^\$\.htmlUrl: not a described property/),
    ]);
    expect(checkSchema(GITHUB_API, schema, { ...answer, id: '7' })).toEqual(['$.id: type integer, got "7"']);
    expect(checkSchema(GITHUB_API, schema, { ...answer, created_at: 'yesterday' })).toEqual([
      '$.created_at: a date-time, got "yesterday"',
    ]);
    const { login, ...anonymous } = answer.user;
    expect(login).toBe('u');
    expect(checkSchema(GITHUB_API, schema, { ...answer, user: anonymous })).toEqual([
      '$.user.login: required property missing',
    ]);
  });
});
