import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WsTransport } from '../src/index';
import type { TransportError } from '../src/index';
import { until } from './until';

const work = mkdtempSync(join(tmpdir(), 'sync-tls-'));
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(work, `${name}.crt`);
  const key = join(work, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}
const serverCert = selfSigned('server');
const otherCert = selfSigned('other');

const open: WsTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function tlsServer(): Promise<{ transport: WsTransport; url: string }> {
  const transport = new WsTransport({ nodeId: 'server', secret: 's', listen: { host: '127.0.0.1', port: 0 }, tls: serverCert });
  open.push(transport);
  const address = await transport.listen();
  return { transport, url: `wss://127.0.0.1:${address?.port}` };
}

describe('wss:// between nodes', () => {
  it('connects over TLS and reports the listener certificate fingerprint', async () => {
    const server = await tlsServer();
    expect(server.transport.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const client = new WsTransport({ nodeId: 'client', secret: 's', listen: null, tls: { pins: [server.transport.fingerprint!] } });
    open.push(client);
    client.dial(server.url);
    await until(() => server.transport.connections().length === 1 && client.connections().length === 1, 'a TLS connection');
  });

  it('refuses a server whose certificate is not pinned', async () => {
    const server = await tlsServer();
    const wrongPin = new WsTransport({ nodeId: 'client', secret: 's', listen: null, tls: { pins: [new WsTransport({ nodeId: 'x', secret: '', listen: null, tls: otherCert }).fingerprint!] } });
    open.push(wrongPin);
    const errors: TransportError[] = [];
    wrongPin.on('error', (error) => errors.push(error));
    wrongPin.dial(server.url);
    await until(() => errors.length > 0, 'a dial error');
    expect(errors[0]?.message).toMatch(/not one of the pinned fingerprints/);
    expect(server.transport.connections()).toEqual([]);
  });

  it('a plain ws:// client cannot talk to a TLS listener', async () => {
    const server = await tlsServer();
    const plain = new WsTransport({ nodeId: 'client', secret: 's', listen: null });
    open.push(plain);
    const errors: TransportError[] = [];
    plain.on('error', (error) => errors.push(error));
    plain.dial(server.url.replace('wss://', 'ws://'));
    await until(() => errors.length > 0, 'a dial error');
    expect(server.transport.connections()).toEqual([]);
  });
});
