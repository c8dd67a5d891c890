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
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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
    this.comments.push(c);
    return c;
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
      this.deployments.push(d);
      return [201, { id: d.id, ref: d.ref, environment: d.environment }];
    }
    if (method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(p)) {
      const env = url.searchParams.get('environment');
      return [200, this.deployments.filter((d) => !env || d.environment === env).map((d) => ({ id: d.id }))];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/.exec(p)) && method === 'POST') {
      const d = this.deployments.find((x) => x.id === Number(m![1]));
      if (!d) return [404, { message: 'Not Found' }];
      d.statuses.push(body);
      return [201, { id: this.nextId++, state: body.state }];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(p))) {
      const issue = Number(m[1]);
      if (method === 'GET') return [200, this.comments.filter((c) => c.issue === issue)];
      return [201, this.addComment(issue, String(body.body), TOKEN_AUTHOR)];
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(p)) && method === 'PATCH') {
      const c = this.comments.find((x) => x.id === Number(m![1]));
      if (!c) return [404, { message: 'Not Found' }];
      c.body = String(body.body);
      return [200, c];
    }
    return [404, { message: `no route for ${method} ${p}` }];
  }
}
