import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, encodeMessage } from '@sync/protocol';
import type { BlockFrame } from '@sync/protocol';
import type { AppMessage } from './connection';
import type { TransportError } from './errors';
import type { FrameSocket } from './frame-socket';
import { PeerSession } from './session';
import type { SessionOptions } from './session';
import { createMemoryPair } from './testing/memory-socket';
import { defaultLimits } from '@sync/protocol';

interface Observed {
  session: PeerSession;
  established: boolean;
  closedReason: string | null;
  messages: AppMessage[];
  blocks: BlockFrame[];
  errors: TransportError[];
}

function open(socket: FrameSocket, overrides: Partial<SessionOptions> = {}): Observed {
  const observed = { established: false, closedReason: null, messages: [], blocks: [], errors: [] } as unknown as Observed;
  observed.session = new PeerSession(
    socket,
    {
      nodeId: 'alpha',
      secret: 'secret',
      software: 'test',
      limits: defaultLimits,
      handshakeTimeoutMs: 2_000,
      direction: 'outbound',
      remoteAddress: 'mem://x',
      ...overrides,
    },
    {
      established: () => (observed.established = true),
      message: (_s, message) => observed.messages.push(message),
      block: (_s, frame) => observed.blocks.push(frame),
      closed: (_s, reason) => (observed.closedReason = reason),
      error: (error) => observed.errors.push(error),
    },
  );
  return observed;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A peer that speaks raw frames, to send what a well-behaved session never would. */
function rawPeer(socket: FrameSocket): { texts: string[]; closed: string | null } {
  const seen = { texts: [] as string[], closed: null as string | null };
  socket.attach({ text: (text) => seen.texts.push(text), binary: () => {}, closed: (reason) => (seen.closed = reason) });
  return seen;
}

describe('PeerSession handshake', () => {
  it('authenticates both sides with the shared secret and then carries messages and blocks', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a, { nodeId: 'alpha' });
    const beta = open(b, { nodeId: 'beta', direction: 'inbound' });
    await until(() => alpha.established && beta.established, 'both ends established');
    expect(alpha.session.peerId).toBe('beta');
    expect(beta.session.peerId).toBe('alpha');

    await alpha.session.send({ type: 'index-request', indexId: null, since: 0 });
    await beta.session.sendBlock(7, new Uint8Array([1, 2, 3]));
    await until(() => beta.messages.length === 1 && alpha.blocks.length === 1, 'message and block');
    expect(beta.messages[0]).toEqual({ type: 'index-request', indexId: null, since: 0 });
    expect(alpha.blocks[0]?.id).toBe(7);
    expect([...(alpha.blocks[0]?.data ?? [])]).toEqual([1, 2, 3]);
  });

  it('refuses a peer with the wrong secret on both sides, before any message is delivered', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a, { nodeId: 'alpha', secret: 'right' });
    const beta = open(b, { nodeId: 'beta', secret: 'wrong', direction: 'inbound' });
    await until(() => alpha.closedReason !== null && beta.closedReason !== null, 'both closed');
    expect(alpha.established || beta.established).toBe(false);
    expect([...alpha.errors, ...beta.errors].map((e) => e.code)).toContain('AUTH_FAILED');
    expect(`${alpha.closedReason} ${beta.closedReason}`).toMatch(/authentication failed/);
  });

  it('refuses another protocol version with a reason that names both', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a);
    const peer = rawPeer(b);
    await b.sendText(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION + 1, nodeId: 'beta', nonce: 'n'.repeat(32), software: 'future' }));
    await until(() => alpha.closedReason !== null, 'closed');
    expect(alpha.errors[0]?.code).toBe('PROTOCOL_MISMATCH');
    expect(alpha.closedReason).toContain(`protocol ${PROTOCOL_VERSION + 1}`);
    expect(peer.texts.some((t) => t.includes('"auth"'))).toBe(false);
  });

  it('closes on any application frame before authentication and delivers nothing', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a);
    rawPeer(b);
    await b.sendText(encodeMessage({ type: 'index-request', indexId: null, since: 0 }));
    await until(() => alpha.closedReason !== null, 'closed');
    expect(alpha.messages).toEqual([]);
    expect(alpha.errors[0]?.code).toBe('BAD_FRAME');
  });

  it('closes on a binary frame before authentication', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a);
    rawPeer(b);
    await b.sendBinary(new Uint8Array([1, 0, 0, 0, 1, 9]));
    await until(() => alpha.closedReason !== null, 'closed');
    expect(alpha.blocks).toEqual([]);
  });

  it('refuses to connect to itself', async () => {
    const [a, b] = createMemoryPair();
    const one = open(a, { nodeId: 'same' });
    const two = open(b, { nodeId: 'same', direction: 'inbound' });
    await until(() => one.closedReason !== null && two.closedReason !== null, 'closed');
    expect(one.errors.map((e) => e.code)).toContain('SELF_CONNECTION');
  });

  it('gives up on a peer that never finishes the handshake', async () => {
    const [a, b] = createMemoryPair();
    rawPeer(b);
    const alpha = open(a, { handshakeTimeoutMs: 30 });
    await until(() => alpha.closedReason !== null, 'closed');
    expect(alpha.errors[0]?.code).toBe('HANDSHAKE_TIMEOUT');
  });

  it('after the handshake, a malformed frame or a second hello closes the connection', async () => {
    for (const bad of ['{not json', JSON.stringify({ type: 'hello', protocol: 1, nodeId: 'x', nonce: 'n'.repeat(32), software: '' }), '{"type":"request","id":1,"path":"../etc/passwd","hash":"' + 'a'.repeat(64) + '","offset":0,"size":1}']) {
      const [a, b] = createMemoryPair();
      const alpha = open(a, { nodeId: 'alpha' });
      const beta = open(b, { nodeId: 'beta', direction: 'inbound' });
      await until(() => alpha.established && beta.established, 'established');
      await b.sendText(bad);
      await until(() => alpha.closedReason !== null, 'closed');
      expect(alpha.messages).toEqual([]);
      expect(alpha.errors[0]?.code).toBe('BAD_FRAME');
      await until(() => beta.closedReason !== null, 'peer told');
      expect(beta.closedReason).toMatch(/^peer closed: /);
    }
  });

  it('rejects sends once closed with a CLOSED error', async () => {
    const [a, b] = createMemoryPair();
    const alpha = open(a, { nodeId: 'alpha' });
    const beta = open(b, { nodeId: 'beta', direction: 'inbound' });
    await until(() => alpha.established && beta.established, 'established');
    alpha.session.close('bye');
    expect(alpha.session.closed).toBe(true);
    await expect(alpha.session.send({ type: 'index-request', indexId: null, since: 0 })).rejects.toMatchObject({ code: 'CLOSED' });
    await until(() => beta.closedReason !== null, 'peer closed');
    expect(beta.closedReason).toBe('peer closed: bye');
  });
});
