import http from 'node:http';

/** One request through the proxy and its answer, as they crossed the wire. */
export interface Crossed {
  req: http.IncomingMessage;
  body: Buffer;
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Forwards every request to target as it is (its Host header too, which a SigV4 signature covers) and
 * hands each request and answer to record before the answer goes back.
 */
export function recordingProxy(
  target: { host: string; port: number },
  record: (x: Crossed) => void,
): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = http.request(
        { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const back: Buffer[] = [];
          answer.on('data', (c: Buffer) => back.push(c));
          answer.on('end', () => {
            const text = Buffer.concat(back).toString('utf8');
            record({ req, body, status: answer.statusCode!, headers: answer.headers, text });
            res.writeHead(answer.statusCode!, answer.headers);
            res.end(text);
          });
        },
      );
      up.end(body);
    });
  });
}
