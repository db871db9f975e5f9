import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burstPhase, keepAlivePhase, percentile } from '../src/load-test.js';
import { listenOverflows, openFileLimit, sampleProcess } from '../src/net-util.js';

describe('percentile', () => {
  it('takes the nearest rank of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2], 0)).toBe(1);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('load phases', () => {
  const ids = ['a'.repeat(64), `b${'0'.repeat(63)}`];
  let server: Server;
  let baseUrl: string;
  const seen = new Set<string>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.add(req.url ?? '');
      // One id is "missing", so errors are counted by kind.
      if (req.url?.includes('/bbbb') || req.url?.startsWith('/b000/')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': '1024' }).end(Buffer.alloc(1024));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps one connection per client and counts answers, bytes and failures', async () => {
    const result = await keepAlivePhase({ baseUrl, ids, clients: 20, seconds: 1, burst: 0, groupSize: 8 });
    expect(result.phase).toBe('keep-alive');
    expect(result.connections).toBe(20);
    expect(result.requests).toBeGreaterThan(20);
    expect(result.errors).toBeGreaterThan(0);
    expect(result.errorKinds).toEqual({ 'HTTP 404': result.errors });
    expect(result.p50Ms).not.toBeNull();
    expect(result.p99Ms!).toBeGreaterThanOrEqual(result.p50Ms!);
    expect(result.mbPerSecond).toBeGreaterThan(0);
    expect([...seen].every((url) => /^\/[0-9a-f]{4}\/[0-9a-f]{64}\.cacnk$/.test(url))).toBe(true);
  });

  it('opens one connection per burst request', async () => {
    const result = await burstPhase({ baseUrl, ids: [ids[0]], clients: 1, seconds: 1, burst: 50 });
    expect(result).toMatchObject({ phase: 'burst', clients: 50, connections: 50, requests: 50, errors: 0 });
    expect(result.connectP99Ms).not.toBeNull();
  });

  it('counts refused connections as errors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await burstPhase({
      baseUrl: `http://127.0.0.1:${port}/`,
      ids,
      clients: 1,
      seconds: 1,
      burst: 5,
    });
    expect(result.requests).toBe(0);
    expect(result.errorKinds).toEqual({ ECONNREFUSED: 5 });
  });
});

describe('process sampling', () => {
  it('reads peak RSS and open descriptors of a process from /proc', async () => {
    const peaks = await sampleProcess(process.pid, 10).stop();
    expect(peaks.samples).toBeGreaterThan(0);
    expect(peaks.peakRssKb).toBeGreaterThan(0);
    expect(peaks.hwmKb).toBeGreaterThanOrEqual(peaks.peakRssKb!);
    expect(peaks.peakFds).toBeGreaterThan(2);
    const limit = await openFileLimit();
    expect(limit?.soft).toBeGreaterThan(0);
    expect(await listenOverflows()).toBeGreaterThanOrEqual(0);
  });
});
