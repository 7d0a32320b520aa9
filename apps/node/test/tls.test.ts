import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, freePorts, isolatedMain, waitFor } from './harness';

// Goal: two daemons talk over wss:// with the listener's certificate pinned by the dialer.

let root = '';
let cleanup: () => Promise<void> = async () => {};
const processes: NodeProcess[] = [];

beforeAll(async () => {
  let main: string;
  ({ main, root, cleanup } = await isolatedMain());
  const cert = join(root, 'a.crt');
  const key = join(root, 'a.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=a', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1]!.trim();
  const [listenA, listenB] = (await freePorts(2)) as [number, number];
  const secret = randomBytes(24).toString('hex');
  processes.push(
    new NodeProcess('a', main, ['--dir', join(root, 'a'), '--listen', `127.0.0.1:${listenA}`, '--http', 'off', '--tls-cert', cert, '--tls-key', key], { SYNC_SECRET: secret }, root),
    new NodeProcess('b', main, ['--dir', join(root, 'b'), '--listen', `127.0.0.1:${listenB}`, '--http', 'off', '--peer', `wss://127.0.0.1:${listenA}`, '--tls-pin', fingerprint], { SYNC_SECRET: secret }, root),
  );
  const running = await processes[0]!.waitForLine(/INFO +running /, 30_000);
  expect(running).toContain(`tlsFingerprint=${fingerprint}`);
  await processes[1]!.waitForLine(/peer up peer=/, 30_000);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await cleanup();
});

describe('daemons over wss://', () => {
  it('sync a file both ways over a pinned TLS connection', async () => {
    const data = randomBytes(300 * 1024);
    await writeFile(join(root, 'a', 'over-tls.bin'), data);
    await waitFor(async () => (await readFile(join(root, 'b', 'over-tls.bin')).catch(() => null))?.equals(data), 30_000, `over-tls.bin on b\n${processes[1]!.output}`);
    await writeFile(join(root, 'b', 'back.txt'), 'back over tls');
    await waitFor(async () => (await readFile(join(root, 'a', 'back.txt'), 'utf8').catch(() => null)) === 'back over tls', 30_000, 'back.txt on a');
  });
});
