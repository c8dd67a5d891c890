// A local stand-in for the GitHub REST API calls the action makes (Deployments, deployment statuses,
// issue comments). It keeps what it is sent and records every request; refuse makes it answer 403,
// as GitHub does for a workflow token without the permissions (pull requests from forks).
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

export interface Comment {
  id: number;
  issue: number;
  body: string;
}

export class GitHubApi {
  requests: Recorded[] = [];
  deployments: Deployment[] = [];
  comments: Comment[] = [];
  refuse = false;
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

  private route(method: string, url: URL, body: Record<string, unknown>): [number, unknown] {
    const p = url.pathname;
    let m: RegExpExecArray | null;
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
      const c = { id: this.nextId++, issue, body: String(body.body) };
      this.comments.push(c);
      return [201, c];
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
