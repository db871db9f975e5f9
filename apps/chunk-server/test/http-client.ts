import * as http from 'node:http';
import * as https from 'node:https';

/** What a test request got back. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request with node's own client, which sends the path as given (fetch would
 * normalise `..` away before it leaves the process).
 */
export function request(
  url: string,
  options: https.RequestOptions & { path?: string; body?: Uint8Array } = {},
): Promise<Reply> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: target.hostname,
        port: target.port,
        method: 'GET',
        ...options,
        path: options.path ?? target.pathname,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
