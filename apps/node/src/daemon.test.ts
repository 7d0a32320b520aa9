import { describe, expect, it } from 'vitest';
import type { NodeConfig } from './config';
import { Daemon } from './daemon';
import { createLogger } from './logger';
import { FakeNode } from './testing/fake-node';

const config: NodeConfig = {
  dir: '/data',
  stateDir: '/state',
  listen: { host: '127.0.0.1', port: 7070 },
  peers: ['ws://b:7070'],
  nodeId: 'node1',
  secret: 'a-test-secret-of-32-characters!!',
  insecure: false,
  secretSource: 'SYNC_SECRET',
  http: { host: '127.0.0.1', port: 0 },
  conflictPolicy: 'newest-wins',
  pollIntervalMs: 500,
  rescanMinutes: 60,
  logLevel: 'info',
  logFormat: 'json',
  keepVersionsDays: 7,
  tls: null,
};

function setup(holdStart: boolean, overrides: Partial<NodeConfig> = {}) {
  const node = new FakeNode(holdStart);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const daemon = new Daemon({ ...config, ...overrides }, { logger, createNode: node.create, processMetrics: false });
  const get = (path: string) => fetch(`http://127.0.0.1:${daemon.httpAddress?.port}${path}`);
  return { node, lines, daemon, get };
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Daemon', () => {
  it('passes the configuration to the engine', () => {
    const { node } = setup(false);
    expect(node.options).toMatchObject({
      dir: '/data',
      stateDir: '/state',
      nodeId: 'node1',
      listen: { host: '127.0.0.1', port: 7070 },
      peers: ['ws://b:7070'],
      secret: 'a-test-secret-of-32-characters!!',
      conflictPolicy: 'newest-wins',
      pollIntervalMs: 500,
      limits: { versionsRetentionMs: 7 * 24 * 3600_000, rescanIntervalMs: 3600_000 },
    });
    expect(setup(false, { rescanMinutes: false }).node.options?.limits?.rescanIntervalMs).toBe(0);
    expect(node.options?.software).toMatch(/^sync-node\/\d+\.\d+\.\d+/);
    expect(node.options?.logger).toBeDefined();
  });

  it('leaves the node id to the engine when none is configured', () => {
    const { node } = setup(false, { nodeId: undefined });
    expect(node.options && 'nodeId' in node.options).toBe(false);
  });

  it('serves HTTP during the initial scan and reports healthy once the engine runs', async () => {
    const { node, daemon, get, lines } = setup(true);
    const started = daemon.start();
    await waitFor(() => daemon.httpAddress !== null);
    expect((await get('/healthz')).status).toBe(503);
    expect(((await (await get('/status')).json()) as { state: string }).state).toBe('scanning');
    node.releaseStart();
    await started;
    expect(daemon.state).toBe('running');
    expect((await get('/healthz')).status).toBe(200);
    expect(lines.map((line) => line.msg)).toEqual(['starting', 'http listening', 'running']);
    expect(lines[0]).toMatchObject({ auth: 'secret from SYNC_SECRET', peers: 'ws://b:7070', watch: 'poll every 500 ms' });
    await daemon.stop();
  });

  it('feeds file-synced events into the propagation histogram', async () => {
    const { node, daemon, get } = setup(false);
    await daemon.start();
    node.emit('file-synced', { path: 'a', op: 'add', type: 'file', bytes: 1, fromPeer: 'node2', durationMs: 20 });
    expect(await (await get('/metrics')).text()).toContain('sync_propagation_seconds_count{op="add"} 1');
    await daemon.stop();
  });

  it('stops the engine once, closes HTTP and unsubscribes', async () => {
    const { node, daemon } = setup(false);
    await daemon.start();
    const port = daemon.httpAddress?.port;
    await Promise.all([daemon.stop(), daemon.stop()]);
    expect(node.calls).toEqual(['start', 'stop']);
    expect(node.listenerCount()).toBe(0);
    expect(daemon.state).toBe('stopping');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('waits for a start in progress before stopping', async () => {
    const { node, daemon } = setup(true);
    const started = daemon.start();
    const stopped = daemon.stop();
    // Let every pending callback run: stop() must still be parked behind the unfinished start().
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(node.calls).toEqual(['start']);
    node.releaseStart();
    await Promise.all([started, stopped]);
    expect(node.calls).toEqual(['start', 'stop']);
  });

  it('closes HTTP and rethrows when the engine fails to start', async () => {
    const { node, daemon } = setup(true);
    const started = daemon.start();
    await waitFor(() => daemon.httpAddress !== null);
    const port = daemon.httpAddress?.port;
    node.releaseStart(new Error('STATE_DIR: read-only'));
    await expect(started).rejects.toThrow('STATE_DIR: read-only');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('runs without HTTP when it is off', async () => {
    const { daemon, lines } = setup(false, { http: null });
    await daemon.start();
    expect(daemon.httpAddress).toBeNull();
    expect(lines.map((line) => line.msg)).toEqual(['starting', 'running']);
    await daemon.stop();
  });
});
