// The few calls of the Docker registry HTTP API (distribution) that the ECR emulator makes, in memory:
// the catalog, a tag list, and getting, putting and deleting a manifest by tag or digest.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Manifest {
  body: string;
  type: string;
}

export class RegistryStub {
  /** repository -> digest -> manifest */
  readonly manifests = new Map<string, Map<string, Manifest>>();
  /** repository -> tag -> digest */
  readonly tags = new Map<string, Map<string, string>>();
  /** As a registry without REGISTRY_STORAGE_DELETE_ENABLED: DELETE answers 405. */
  deleteDisabled = false;
  private server?: http.Server;

  /** Puts a manifest under tag, as a push does; returns its digest. */
  push(repository: string, tag: string, body: string, type: string): string {
    const digest = `sha256:${crypto.createHash('sha256').update(body).digest('hex')}`;
    if (!this.manifests.has(repository)) this.manifests.set(repository, new Map());
    if (!this.tags.has(repository)) this.tags.set(repository, new Map());
    this.manifests.get(repository)!.set(digest, { body, type });
    this.tags.get(repository)!.set(tag, digest);
    return digest;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const [status, headers, text] = this.route(req, body);
        res.writeHead(status, headers);
        res.end(text);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }

  private route(req: http.IncomingMessage, body: string): [number, Record<string, string>, string] {
    const json = { 'content-type': 'application/json' };
    const unknown: [number, Record<string, string>, string] = [
      404,
      json,
      JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
    ];
    const url = new URL(req.url!, 'http://registry');
    if (req.method === 'GET' && url.pathname === '/v2/_catalog')
      return [200, json, JSON.stringify({ repositories: [...this.tags.keys()].sort() })];
    const tagList = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tagList && req.method === 'GET') {
      const tags = this.tags.get(tagList[1]);
      if (!tags)
        return [
          404,
          json,
          JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known' }] }),
        ];
      return [200, json, JSON.stringify({ name: tagList[1], tags: [...tags.keys()] })];
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m) return [404, json, '{}'];
    const [, repository, ref] = m;
    const digest = ref.startsWith('sha256:') ? ref : this.tags.get(repository)?.get(ref);
    const manifest = digest ? this.manifests.get(repository)?.get(digest) : undefined;
    if (req.method === 'GET') {
      const accept = String(req.headers.accept ?? '*/*').split(/,\s*/);
      if (!manifest || !(accept.includes(manifest.type) || accept.includes('*/*'))) return unknown;
      return [200, { 'content-type': manifest.type, 'docker-content-digest': digest! }, manifest.body];
    }
    if (req.method === 'PUT') {
      const type = String(req.headers['content-type']);
      const pushed = this.push(repository, ref, body, type);
      return [201, { 'docker-content-digest': pushed }, ''];
    }
    if (req.method === 'DELETE') {
      if (this.deleteDisabled)
        return [
          405,
          json,
          JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }),
        ];
      if (!manifest) return unknown;
      this.manifests.get(repository)!.delete(digest!);
      const tags = this.tags.get(repository)!;
      for (const [tag, d] of tags) if (d === digest) tags.delete(tag);
      return [202, {}, ''];
    }
    return [405, json, '{}'];
  }
}
