import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncStatus } from '@sync/core';
import { createHttpHandler, startHttpServer } from './http';
import type { Health, HttpListener } from './http';
import { NodeMetrics } from './metrics';
import { fakeStatus } from './testing/fake-node';

let listener: HttpListener | null = null;
afterEach(async () => {
  await listener?.close();
  listener = null;
});

async function serve(options: { status?: () => SyncStatus; health?: () => Health; metrics?: NodeMetrics; confirmDeletes?: () => Promise<number> } = {}) {
  const status = options.status ?? (() => fakeStatus());
  const metrics = options.metrics ?? new NodeMetrics({ status, version: '9.9.9' });
  listener = await startHttpServer(
    { host: '127.0.0.1', port: 0 },
    createHttpHandler({ status, health: options.health ?? (() => 'running'), metrics, version: '9.9.9', startedAtMs: 1_000, now: () => 61_000, ...(options.confirmDeletes ? { confirmDeletes: options.confirmDeletes } : {}) }),
  );
  const base = `http://127.0.0.1:${listener.address.port}`;
  return { metrics, get: (path: string, init?: RequestInit) => fetch(base + path, init) };
}

/** The value of one sample line in Prometheus text, e.g. `sync_files 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/healthz', () => {
  it('answers 200 ok while running and 503 with the state otherwise', async () => {
    let health: Health = 'starting';
    const { get } = await serve({ health: () => health });
    let response = await get('/healthz');
    expect([response.status, await response.text()]).toEqual([503, 'starting\n']);
    health = 'running';
    response = await get('/healthz');
    expect([response.status, await response.text()]).toEqual([200, 'ok\n']);
    health = 'stopping';
    expect((await get('/healthz')).status).toBe(503);
  });
});

describe('/status', () => {
  it('returns the node status with version and uptime as JSON', async () => {
    const { get } = await serve();
    const response = await get('/status?pretty=1');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ version: '9.9.9', uptimeSeconds: 60, health: 'running', ...fakeStatus() });
  });

  it('answers 500 and keeps serving when the status source throws', async () => {
    let broken = true;
    const { get } = await serve({
      status: () => {
        if (broken) throw new Error('engine gone');
        return fakeStatus();
      },
    });
    expect((await get('/status')).status).toBe(500);
    broken = false;
    expect((await get('/status')).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('exposes gauges, counters, info and the propagation histogram in Prometheus text', async () => {
    let status = fakeStatus();
    const { get, metrics } = await serve({ status: () => status });
    metrics.observeSynced({ op: 'add', durationMs: 30 });
    metrics.observeSynced({ op: 'add', durationMs: 2_000 });
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(sample(text, 'sync_files')).toBe(3);
    expect(sample(text, 'sync_directories')).toBe(2);
    expect(sample(text, 'sync_bytes')).toBe(4096);
    expect(sample(text, 'sync_peers_connected')).toBe(1);
    expect(sample(text, 'sync_transfers_in_flight')).toBe(1);
    expect(sample(text, 'sync_files_synced_total')).toBe(7);
    expect(sample(text, 'sync_bytes_received_total')).toBe(100);
    expect(sample(text, 'sync_bytes_sent_total')).toBe(200);
    expect(sample(text, 'sync_bytes_reused_total')).toBe(50);
    expect(sample(text, 'sync_conflicts_total')).toBe(1);
    expect(sample(text, 'sync_errors_total')).toBe(0);
    expect(sample(text, 'sync_info{node_id="node1",version="9.9.9"}')).toBe(1);
    expect(text).toContain('# TYPE sync_propagation_seconds histogram');
    expect(sample(text, 'sync_propagation_seconds_bucket{le="0.05",op="add"}')).toBe(1);
    expect(sample(text, 'sync_propagation_seconds_bucket{le="2.5",op="add"}')).toBe(2);
    expect(sample(text, 'sync_propagation_seconds_count{op="add"}')).toBe(2);
    expect(sample(text, 'sync_propagation_seconds_sum{op="add"}')).toBeCloseTo(2.03);

    status = fakeStatus({ filesSynced: 10, peers: [] });
    const again = await (await get('/metrics')).text();
    expect(sample(again, 'sync_files_synced_total')).toBe(10);
    expect(sample(again, 'sync_peers_connected')).toBe(0);
  });

  it('adds process metrics when asked', async () => {
    const metrics = new NodeMetrics({ status: () => fakeStatus(), version: '1', processMetrics: true });
    const { get } = await serve({ metrics });
    expect(await (await get('/metrics')).text()).toContain('process_cpu_user_seconds_total');
  });
});

describe('routing', () => {
  it('answers 404 for unknown paths, 405 for writes and no body for HEAD', async () => {
    const { get } = await serve();
    expect((await get('/')).status).toBe(404);
    expect((await get('/metricsx')).status).toBe(404);
    const post = await get('/status', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await get('/healthz', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
  });
});

describe('startHttpServer', () => {
  it('rejects with HTTP_LISTEN when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startHttpServer({ host: '127.0.0.1', port }, () => {})).rejects.toMatchObject({ name: 'DaemonError', code: 'HTTP_LISTEN' });
    } finally {
      blocker.close();
    }
  });

  it('closes promptly even with a keep-alive client connected', async () => {
    const { get } = await serve();
    await (await get('/healthz')).text();
    const started = Date.now();
    await listener?.close();
    listener = null;
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('/confirm-deletes', () => {
  it('releases held deletes on POST only, and says how many', async () => {
    let calls = 0;
    const { get } = await serve({ confirmDeletes: async () => ++calls * 7 });
    const refused = await get('/confirm-deletes');
    expect(refused.status).toBe(405);
    expect(calls).toBe(0);
    const response = await get('/confirm-deletes', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ confirmed: 7 });
  });
});
