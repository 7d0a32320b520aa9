import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostileClient } from './hostile-client';
import { NodeProcess, freePorts, httpGet, isolatedMain, waitFor } from './harness';

// Goal: a peer that knows the secret but sends hostile frames is disconnected with a reason, can
// make the node write nothing outside its folder, and cannot stop it from syncing with others.

const timeoutMs = 30_000;
const secret = randomBytes(32).toString('hex');
let root = '';
let cleanup: () => Promise<void> = async () => {};
let target: { dir: string; url: string; http: number; process: NodeProcess };
let honest: { dir: string; process: NodeProcess };
let outside = '';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function fileRecord(path: string, content: Buffer, counter = 1): Record<string, unknown> {
  const hash = sha256(content);
  return {
    path,
    type: 'file',
    size: content.length,
    mtimeMs: 1_700_000_000_000,
    mode: 0o644,
    hash,
    blocks: content.length ? [{ offset: 0, size: content.length, hash }] : [],
    deleted: false,
    version: { mallory: counter },
    modifiedBy: 'mallory',
    sequence: counter,
  };
}

async function healthy(): Promise<boolean> {
  return (await httpGet(target.http, '/healthz').catch(() => ({ status: 0 }))).status === 200;
}

/** Serves the blocks of `files` to the node, as an honest peer would. */
function serve(client: HostileClient, files: Record<string, Buffer>): void {
  client.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const message = JSON.parse(data.toString()) as { type: string; id: number; path: string; offset: number; size: number };
    if (message.type !== 'request') return;
    const content = files[message.path];
    if (!content) return;
    const header = Buffer.alloc(5);
    header[0] = 1;
    header.writeUInt32BE(message.id, 1);
    client.send(Buffer.concat([header, content.subarray(message.offset, message.offset + message.size)]));
  });
}

beforeAll(async () => {
  let main: string;
  ({ main, root, cleanup } = await isolatedMain());
  outside = join(root, 'outside');
  await mkdir(outside);
  const [listenA, httpA, listenB] = (await freePorts(3)) as [number, number, number];
  const common = { SYNC_SECRET: secret, SYNC_LOG_LEVEL: 'debug' };
  const targetDir = join(root, 'target');
  const honestDir = join(root, 'honest');
  await mkdir(targetDir);
  await writeFile(join(targetDir, '.syncignore'), '*.log\n');
  await writeFile(join(targetDir, 'private.log'), 'not for peers');
  await writeFile(join(targetDir, 'shared.txt'), 'for peers');
  target = {
    dir: targetDir,
    url: `ws://127.0.0.1:${listenA}`,
    http: httpA,
    process: new NodeProcess('target', main, [], { ...common, SYNC_DIR: targetDir, SYNC_NODE_ID: 'target', SYNC_LISTEN: `127.0.0.1:${listenA}`, SYNC_HTTP: `127.0.0.1:${httpA}` }, root),
  };
  honest = {
    dir: honestDir,
    process: new NodeProcess('honest', main, [], { ...common, SYNC_DIR: honestDir, SYNC_NODE_ID: 'honest', SYNC_LISTEN: `127.0.0.1:${listenB}`, SYNC_HTTP: 'off', SYNC_PEERS: target.url }, root),
  };
  await target.process.waitForLine(/INFO +running /, timeoutMs);
  await waitFor(() => existsSync(join(honestDir, 'shared.txt')), timeoutMs, `honest to sync\n${honest.process.output}`);
});

afterAll(async () => {
  await Promise.all([target?.process.kill(), honest?.process.kill()]);
  await cleanup();
});

describe('a peer with the secret that sends hostile frames', () => {
  it('is disconnected for a path-traversal record, and nothing is written outside the folder', async () => {
    for (const path of ['../escape.txt', '/etc/evil', 'a/../../escape.txt', '.sync/node-id', 'a\\..\\b']) {
      const client = await HostileClient.connect(target.url, secret);
      client.send({ type: 'index', indexId: 'mallory-index', records: [fileRecord('ok.txt', Buffer.from('x')), fileRecord(path, Buffer.from('x'))], done: true });
      expect(await client.closed).toMatch(/invalid frame/);
    }
    expect(await healthy()).toBe(true);
    expect(await readdir(root)).not.toContain('escape.txt');
    expect(existsSync(join(target.dir, 'ok.txt'))).toBe(false); // the batch is rejected as a whole
  });

  it('is disconnected for a file record whose hash is not the one its blocks make', async () => {
    const client = await HostileClient.connect(target.url, secret);
    const content = Buffer.from('some bytes');
    serve(client, { 'lying.txt': content });
    client.send({ type: 'index', indexId: 'mallory-index', records: [{ ...fileRecord('lying.txt', content), hash: sha256('other bytes') }], done: true });
    expect(await client.closed).toMatch(/hash does not match its blocks/);
    expect(await healthy()).toBe(true);
    expect(existsSync(join(target.dir, 'lying.txt'))).toBe(false);
  });

  it('cannot make the node write through a symlink it announced', async () => {
    const client = await HostileClient.connect(target.url, secret);
    const payload = Buffer.from('pwned');
    const gift = Buffer.from('an honest-looking file');
    serve(client, { 'link/pwned.txt': payload, 'gift.txt': gift });
    const link = { path: 'link', type: 'symlink', size: 0, mtimeMs: 1_700_000_000_000, mode: 0o777, hash: '', blocks: [], target: outside, deleted: false, version: { mallory: 1 }, modifiedBy: 'mallory', sequence: 1 };
    client.send({ type: 'index', indexId: 'mallory-index', records: [link, fileRecord('link/pwned.txt', payload, 2), fileRecord('gift.txt', gift, 3)], done: true });
    // The valid file arrives, so the node did process the batch; the one under the link must not.
    await waitFor(async () => (await readFile(join(target.dir, 'gift.txt')).catch(() => null))?.equals(gift), timeoutMs, `gift.txt\n${target.process.output}`);
    await waitFor(() => target.process.output.includes('link'), timeoutMs, 'the symlink to be handled');
    expect(await readdir(outside)).toEqual([]);
    client.close();
  });

  it('gets NOT_FOUND for files outside the index, and is cut off for state-dir requests', async () => {
    const client = await HostileClient.connect(target.url, secret);
    const ask = (id: number, path: string, content: string): void =>
      client.send({ type: 'request', id, path, hash: sha256(content), offset: 0, size: Buffer.byteLength(content) });
    ask(1, 'private.log', 'not for peers'); // ignored by the node: not in its index
    ask(2, 'shared.txt', 'something else'); // in the index, but not this content
    ask(3, 'nowhere.txt', 'x');
    await waitFor(() => client.received.filter((m) => typeof m === 'string' && m.includes('"error"')).length === 3, timeoutMs, 'three error answers');
    const errors = client.received.filter((m): m is string => typeof m === 'string' && m.includes('"error"')).map((m) => JSON.parse(m) as { id: number; code: string });
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(client.received.some((m) => Buffer.isBuffer(m))).toBe(false);

    ask(4, '.sync/node-id', 'target');
    expect(await client.closed).toMatch(/invalid frame/);
    expect(await healthy()).toBe(true);
  });

  it('is disconnected for an oversized batch', async () => {
    const client = await HostileClient.connect(target.url, secret);
    const records = Array.from({ length: 1001 }, (_, i) => ({ ...fileRecord(`many/${i}`, Buffer.from('')), deleted: true, hash: '', size: 0 }));
    client.send({ type: 'index-update', indexId: 'mallory-index', records });
    expect(await client.closed).toMatch(/invalid frame: TOO_MANY_RECORDS/);
  });

  it('survives handshakes cut or corrupted at every step', async () => {
    const steps: ((c: HostileClient) => void)[] = [
      () => {},
      (c) => c.send('{"type":"hello"'),
      (c) => c.send({ type: 'hello', protocol: 1, nodeId: 'cut', nonce: randomBytes(24).toString('base64url'), software: 'x' }),
      (c) => {
        c.send({ type: 'hello', protocol: 1, nodeId: 'cut', nonce: randomBytes(24).toString('base64url'), software: 'x' });
        c.send({ type: 'auth', proof: '0'.repeat(64) });
      },
      (c) => c.send({ type: 'auth', proof: '0'.repeat(64) }),
      (c) => c.send(Buffer.from([1, 0, 0, 0, 1, 42])),
      (c) => c.send({ type: 'index-request', indexId: null, since: 0 }),
      (c) => c.send({ type: 'hello', protocol: 99, nodeId: 'cut', nonce: randomBytes(24).toString('base64url'), software: 'x' }),
    ];
    for (const step of steps) {
      const client = await HostileClient.connect(target.url, secret, 'cut', false);
      step(client);
      client.close();
    }
    await waitFor(healthy, timeoutMs, 'the node to answer /healthz');
    const status = JSON.parse((await httpGet(target.http, '/status')).body) as { peers: { nodeId: string }[] };
    expect(status.peers.map((p) => p.nodeId)).toEqual(['honest']);
  });

  it('takes 100,000 random and mutated frames and still syncs with its honest peer', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    let state = seed;
    const random = (): number => {
      // mulberry32: a seeded generator, so a failure can be replayed with FUZZ_SEED.
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const word = (): string => Math.floor(random() * 1e9).toString(36);
    const valid = (): string | Buffer => {
      switch (Math.floor(random() * 5)) {
        case 0:
          return JSON.stringify({ type: 'index-request', indexId: pick([null, 'abcdefgh1234']), since: Math.floor(random() * 1e6) });
        case 1:
          return JSON.stringify({ type: 'request', id: Math.floor(random() * 2 ** 32), path: pick(['shared.txt', `f/${word()}`, 'private.log']), hash: sha256(word()), offset: 0, size: 1 + Math.floor(random() * 1000) });
        case 2:
          return JSON.stringify({ type: 'error', id: Math.floor(random() * 2 ** 32), code: pick(['NOT_FOUND', 'CHANGED', 'INVALID', 'BUSY', 'IO']) });
        case 3: {
          const header = Buffer.alloc(5);
          header[0] = 1;
          header.writeUInt32BE(Math.floor(random() * 2 ** 32), 1);
          return Buffer.concat([header, randomBytes(Math.floor(random() * 64))]);
        }
        default:
          return JSON.stringify({ type: 'index-update', indexId: 'mallory-index', records: [{ ...fileRecord(`fuzz/${word()}`, Buffer.from('')), deleted: true, hash: '', size: 0, sequence: Math.floor(random() * 1e6) }] });
      }
    };
    const mutate = (frame: string | Buffer): string | Buffer => {
      const bytes = Buffer.from(frame);
      const kind = Math.floor(random() * 4);
      if (kind === 0) return bytes.subarray(0, Math.floor(random() * bytes.length));
      if (kind === 1) {
        for (let i = 0; i < 1 + random() * 4; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        return typeof frame === 'string' ? bytes.toString('latin1') : bytes;
      }
      if (kind === 2) return typeof frame === 'string' ? frame.replace(/"[a-z]+"/, `"${word()}"`) : Buffer.concat([Buffer.from([pick([0, 2, 255])]), bytes.subarray(1)]);
      return randomBytes(Math.floor(random() * 200)).toString(pick(['latin1', 'hex', 'base64']) as BufferEncoding);
    };

    let sent = 0;
    let disconnects = 0;
    const framesPerConnection = 250;
    try {
      while (sent < 100_000) {
        const client = await HostileClient.connect(target.url, secret, `fuzz-${sent}`);
        for (let i = 0; i < framesPerConnection - 1; i++) client.send(valid());
        client.send(mutate(valid()));
        sent += framesPerConnection;
        // The mutated frame is usually invalid and ends the connection; when it happens to be valid we end it.
        const ended = await Promise.race([client.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200))]);
        if (ended) disconnects++;
        client.close();
        if (!target.process.running) break;
      }
    } catch (error) {
      throw new Error(`fuzz failed (replay with FUZZ_SEED=${seed}): ${String(error)}`);
    }
    expect(target.process.running, `target died (FUZZ_SEED=${seed})\n${target.process.output.slice(-3000)}`).toBe(true);
    expect(sent).toBeGreaterThanOrEqual(100_000);
    expect(disconnects).toBeGreaterThan(0);
    expect(await healthy()).toBe(true);

    const content = randomBytes(64 * 1024);
    await writeFile(join(honest.dir, 'after-fuzz.bin'), content);
    await waitFor(async () => (await readFile(join(target.dir, 'after-fuzz.bin')).catch(() => null))?.equals(content), timeoutMs, `sync after the fuzz (FUZZ_SEED=${seed})`);
    console.log(`fuzz: ${sent} frames over ${sent / framesPerConnection} connections, ${disconnects} closed by the node, seed ${seed}`);
  }, 240_000);
});
