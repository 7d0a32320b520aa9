import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, freePorts, httpGet, isolatedMain, sha256File, waitFor } from './harness';

// Goal: three built daemons on loopback keep their folders identical; a node with the wrong secret learns nothing.

const syncTimeoutMs = 30_000;
const names = ['node1', 'node2', 'node3'] as const;

interface Member {
  name: string;
  dir: string;
  listen: number;
  http: number;
  process: NodeProcess;
}

let root = '';
let main = '';
let cleanup: () => Promise<void> = async () => {};
const members: Member[] = [];
const extras: NodeProcess[] = [];

function member(name: string): Member {
  const found = members.find((m) => m.name === name);
  if (!found) throw new Error(`no member ${name}`);
  return found;
}

async function peerCount(port: number): Promise<number> {
  const { body } = await httpGet(port, '/status');
  return (JSON.parse(body) as { peers: unknown[] }).peers.length;
}

/** Waits until `relativePath` has the same bytes as node1's copy on each of `on`. */
async function waitForSameFile(relativePath: string, on: readonly string[]): Promise<void> {
  const expected = await sha256File(join(member('node1').dir, relativePath));
  expect(expected).not.toBeNull();
  for (const name of on) {
    await waitFor(async () => (await sha256File(join(member(name).dir, relativePath))) === expected, syncTimeoutMs, `${relativePath} on ${name}\n${member(name).process.output}`);
  }
}

beforeAll(async () => {
  ({ main, root, cleanup } = await isolatedMain());
  const secretFile = join(root, 'cluster-secret');
  await writeFile(secretFile, `${randomBytes(32).toString('hex')}\n`);
  const ports = await freePorts(names.length * 2);
  const listenPorts = ports.slice(0, names.length);
  names.forEach((name, i) => {
    const dir = join(root, name);
    const listen = listenPorts[i] as number;
    const http = ports[names.length + i] as number;
    const peers = listenPorts.filter((port) => port !== listen).map((port) => `ws://127.0.0.1:${port}`);
    // The environment spelling of the configuration; test/cli.test.ts covers the flags.
    const env = {
      SYNC_DIR: dir,
      SYNC_NODE_ID: name,
      SYNC_LISTEN: `127.0.0.1:${listen}`,
      SYNC_PEERS: peers.join(','),
      SYNC_HTTP: `127.0.0.1:${http}`,
      SYNC_SECRET_FILE: secretFile,
    };
    members.push({ name, dir, listen, http, process: new NodeProcess(name, main, [], env, root) });
  });
  for (const m of members) await m.process.waitForLine(/INFO +running /, syncTimeoutMs);
  for (const m of members) await waitFor(async () => (await peerCount(m.http)) === 2, syncTimeoutMs, `${m.name} to see both peers\n${m.process.output}`);
});

afterAll(async () => {
  await Promise.all([...members.map((m) => m.process), ...extras].map((p) => p.kill()));
  await cleanup();
});

describe('a three-node cluster of built daemons', () => {
  it('copies a new file, with its folder, to both other nodes byte for byte', async () => {
    await mkdir(join(member('node1').dir, 'docs'), { recursive: true });
    await writeFile(join(member('node1').dir, 'docs', 'report.bin'), randomBytes(700 * 1024));
    await waitForSameFile('docs/report.bin', ['node2', 'node3']);
  });

  it('logs the synced file with its size and the time taken', async () => {
    // The watcher may catch the file created but not yet written: that empty version can be synced
    // (and logged) first, so look for the line of the full one.
    const line = await member('node2').process.waitForLine(/INFO +synced path=docs\/report\.bin .*size="700 KiB"/);
    expect(line).toMatch(/op=(add|change) type=file/);
    expect(line).toMatch(/from=node[13]/);
    expect(line).toMatch(/took="\d+ ms"/);
  });

  it('propagates a modification', async () => {
    const path = join(member('node1').dir, 'docs', 'report.bin');
    await writeFile(path, Buffer.concat([randomBytes(100 * 1024), randomBytes(650 * 1024)]));
    await waitForSameFile('docs/report.bin', ['node2', 'node3']);
  });

  it('propagates a change made on another node back to the first', async () => {
    await writeFile(join(member('node3').dir, 'from-node3.txt'), 'hello from node3\n');
    for (const name of ['node1', 'node2']) {
      await waitFor(() => existsSync(join(member(name).dir, 'from-node3.txt')), syncTimeoutMs, `from-node3.txt on ${name}`);
    }
    await waitForSameFile('from-node3.txt', ['node2', 'node3']);
  });

  it('propagates a delete', async () => {
    await rm(join(member('node1').dir, 'docs', 'report.bin'));
    for (const name of ['node2', 'node3']) {
      await waitFor(() => !existsSync(join(member(name).dir, 'docs', 'report.bin')), syncTimeoutMs, `the delete on ${name}`);
    }
  });

  it('answers /healthz and /metrics with live numbers', async () => {
    const node2 = member('node2');
    expect(await httpGet(node2.http, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const metrics = (await httpGet(node2.http, '/metrics')).body;
    expect(metrics).toMatch(/^sync_peers_connected 2$/m);
    expect(Number(/^sync_files_synced_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^sync_bytes_received_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^sync_propagation_seconds_count\{op="add"\} [1-9]/m);
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  it('gives a node with the wrong secret nothing and logs the auth failure', async () => {
    const [listen] = await freePorts(1);
    const dir = join(root, 'intruder');
    const intruder = new NodeProcess('intruder', main, [], {
      SYNC_DIR: dir,
      SYNC_NODE_ID: 'intruder',
      SYNC_LISTEN: `127.0.0.1:${listen}`,
      SYNC_PEERS: `ws://127.0.0.1:${member('node1').listen}`,
      SYNC_HTTP: 'off',
      SYNC_SECRET: randomBytes(32).toString('hex'),
    }, root);
    extras.push(intruder);
    await waitFor(
      () => [intruder, member('node1').process].some((p) => p.lines.some((line) => /(WARN|ERROR) .*auth/i.test(line))),
      syncTimeoutMs,
      `an auth failure in the logs\n--- intruder:\n${intruder.output}\n--- node1:\n${member('node1').process.output}`,
    );
    // A file written after the intruder started reaches a real member: had the intruder been let in, it would have it too.
    await writeFile(join(member('node1').dir, 'after-intruder.txt'), 'members only\n');
    await waitForSameFile('after-intruder.txt', ['node2']);
    const visible = (await readdir(dir).catch(() => [] as string[])).filter((entry) => entry !== '.sync');
    expect(visible).toEqual([]);
    expect(await peerCount(member('node1').http)).toBe(2);
    expect(intruder.output).not.toMatch(/peer (up|connected)/);
  });

  it('stops on SIGTERM with exit 0 within a few seconds', async () => {
    const node3 = member('node3');
    const startedAt = Date.now();
    node3.process.signal('SIGTERM');
    expect(await node3.process.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(node3.process.output).toMatch(/INFO +stopped/);
    await waitFor(async () => (await peerCount(member('node1').http)) === 1, syncTimeoutMs, 'node1 to notice node3 left');
  });
});
