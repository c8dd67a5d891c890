// A local stand-in for the GitHub API calls the action makes (Deployments, deployment statuses, issue
// comments, and GraphQL's viewer for the token's identity). It keeps what it is sent and records every
// request; refuse makes it answer 403, as GitHub does for a workflow token without the permissions
// (pull requests from forks).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

export interface Deployment {
  id: number;
  ref: string;
  environment: string;
  payload: Record<string, unknown>;
  statuses: Record<string, unknown>[];
}

export interface Author {
  login: string;
  type: 'User' | 'Bot';
}

export interface Comment {
  id: number;
  issue: number;
  body: string;
  user: Author;
}

/**
 * The workflow token's identity: GraphQL's viewer says github-actions, while REST shows what it wrote
 * as github-actions[bot].
 */
export const TOKEN_VIEWER = 'github-actions';
export const TOKEN_AUTHOR: Author = { login: 'github-actions[bot]', type: 'Bot' };

export class GitHubApi {
  requests: Recorded[] = [];
  deployments: Deployment[] = [];
  comments: Comment[] = [];
  refuse = false;
  /** The login the GraphQL viewer query answers; undefined makes that query fail. */
  viewer: string | undefined = TOKEN_VIEWER;
  private nextId = 100;
  private server?: http.Server;
  private base = 'http://127.0.0.1';
  /** When each deployment, status and comment was created and last updated, by id. */
  private readonly times = new Map<number, { created: string; updated: string }>();

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        this.requests.push({ method: req.method!, path: req.url!, body });
        const [status, answer] = this.refuse
          ? [403, { message: 'Resource not accessible by integration' }]
          : this.route(req.method!, new URL(req.url!, 'http://x'), body ?? {});
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }

  deploymentsOf(environment: string): Deployment[] {
    return this.deployments.filter((d) => d.environment === environment);
  }

  /** A comment someone wrote on the pull request (or issue). */
  addComment(issue: number, body: string, user: Author): Comment {
    const c = { id: this.nextId++, issue, body, user };
    this.stamp(c.id);
    this.comments.push(c);
    return c;
  }

  private stamp(id: number): void {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.times.set(id, { created: this.times.get(id)?.created ?? now, updated: now });
  }

  private timesOf(id: number): { created_at: string; updated_at: string } {
    const t = this.times.get(id) ?? { created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z' };
    return { created_at: t.created, updated_at: t.updated };
  }

  // The answers carry what GitHub's REST API description (api.github.com) requires of each object.

  /** A user as REST shows one (simple-user). */
  private user(a: Author): Record<string, unknown> {
    const id = [...a.login].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 100_000_000, 7);
    const url = `${this.base}/users/${encodeURIComponent(a.login)}`;
    return {
      login: a.login,
      id,
      node_id: `U_${id}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: '',
      url,
      html_url: `https://github.com/${encodeURIComponent(a.login)}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: a.type,
      site_admin: false,
    };
  }

  private deploymentAnswer(repo: string, d: Deployment): Record<string, unknown> {
    const url = `${this.base}/repos/${repo}/deployments/${d.id}`;
    const sent = d.payload;
    return {
      url,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.ref,
      ref: d.ref,
      task: sent.task ?? 'deploy',
      payload: sent.payload ?? {},
      original_environment: d.environment,
      environment: d.environment,
      description: sent.description ?? null,
      creator: this.user(TOKEN_AUTHOR),
      ...this.timesOf(d.id),
      statuses_url: `${url}/statuses`,
      repository_url: `${this.base}/repos/${repo}`,
      transient_environment: sent.transient_environment ?? false,
      production_environment: sent.production_environment ?? d.environment === 'production',
    };
  }

  private statusAnswer(
    repo: string,
    d: Deployment,
    id: number,
    sent: Record<string, unknown>,
  ): Record<string, unknown> {
    const deployment = `${this.base}/repos/${repo}/deployments/${d.id}`;
    return {
      url: `${deployment}/statuses/${id}`,
      id,
      node_id: `DES_${id}`,
      state: sent.state,
      creator: this.user(TOKEN_AUTHOR),
      description: sent.description ?? '',
      environment: sent.environment ?? d.environment,
      target_url: sent.target_url ?? sent.log_url ?? '',
      ...this.timesOf(id),
      deployment_url: deployment,
      repository_url: `${this.base}/repos/${repo}`,
      environment_url: sent.environment_url ?? '',
      log_url: sent.log_url ?? sent.target_url ?? '',
    };
  }

  private commentAnswer(repo: string, c: Comment): Record<string, unknown> {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.base}/repos/${repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
      body: c.body,
      user: this.user(c.user),
      ...this.timesOf(c.id),
      issue_url: `${this.base}/repos/${repo}/issues/${c.issue}`,
      author_association: 'NONE',
    };
  }

  /** GraphQL: the action asks only who the token is. */
  private graphql(query: string): [number, unknown] {
    if (!/^\s*query\s*\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query))
      return [200, { data: null, errors: [{ message: `no stand-in for the query ${query}` }] }];
    if (this.viewer === undefined)
      return [
        200,
        { data: null, errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }] },
      ];
    return [200, { data: { viewer: { login: this.viewer } } }];
  }

  private route(method: string, url: URL, body: Record<string, unknown>): [number, unknown] {
    const p = url.pathname;
    const repo = /^\/repos\/([^/]+\/[^/]+)\//.exec(p)?.[1] ?? '';
    let m: RegExpExecArray | null;
    if (method === 'POST' && p === '/graphql') return this.graphql(String(body.query));
    if (method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(p)) {
      const d: Deployment = {
        id: this.nextId++,
        ref: String(body.ref),
        environment: String(body.environment),
        payload: body,
        statuses: [],
      };
      this.stamp(d.id);
      this.deployments.push(d);
      return [201, this.deploymentAnswer(repo, d)];
    }
    if (method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(p)) {
      const env = url.searchParams.get('environment');
      const listed = this.deployments.filter((d) => !env || d.environment === env);
      return [200, listed.map((d) => this.deploymentAnswer(repo, d))];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/.exec(p)) && method === 'POST') {
      const d = this.deployments.find((x) => x.id === Number(m![1]));
      if (!d) return [404, { message: 'Not Found' }];
      d.statuses.push(body);
      const id = this.nextId++;
      this.stamp(id);
      this.stamp(d.id);
      return [201, this.statusAnswer(repo, d, id, body)];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(p))) {
      const issue = Number(m[1]);
      if (method === 'GET')
        return [200, this.comments.filter((c) => c.issue === issue).map((c) => this.commentAnswer(repo, c))];
      if (method === 'POST')
        return [201, this.commentAnswer(repo, this.addComment(issue, String(body.body), TOKEN_AUTHOR))];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(p)) && method === 'PATCH') {
      const c = this.comments.find((x) => x.id === Number(m![1]));
      if (!c) return [404, { message: 'Not Found' }];
      c.body = String(body.body);
      this.stamp(c.id);
      return [200, this.commentAnswer(repo, c)];
    }
    return [404, { message: `no route for ${method} ${p}` }];
  }
}
