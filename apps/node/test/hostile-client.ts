import { createHmac, randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, authPayload } from '@sync/protocol';

/**
 * A peer that holds the cluster secret but not our manners: it completes the real handshake and
 * then sends whatever a test asks, byte for byte.
 */
export class HostileClient {
  readonly received: (string | Buffer)[] = [];
  closeReason: string | null = null;
  readonly closed: Promise<string>;
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (_code, reason) => {
        this.closeReason = reason.toString();
        resolve(this.closeReason);
      }),
    );
    ws.on('error', () => {});
  }

  /** Connects and, unless `handshake` is false, authenticates as `nodeId`. */
  static async connect(url: string, secret: string, nodeId = 'mallory', handshake = true): Promise<HostileClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new HostileClient(ws);
    const texts: string[] = [];
    let wake: () => void = () => {};
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      client.received.push(isBinary ? data : data.toString());
      if (!isBinary) texts.push(data.toString());
      wake();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (!handshake) return client;
    const next = async (type: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const found = texts.map((t) => JSON.parse(t) as Record<string, unknown>).find((m) => m.type === type);
        if (found) return found;
        if (client.closeReason !== null) throw new Error(`closed during handshake: ${client.closeReason}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    };
    const nonce = randomBytes(24).toString('base64url');
    ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, nodeId, nonce, software: 'hostile' }));
    const hello = await next('hello');
    const proof = createHmac('sha256', secret).update(authPayload(String(hello.nonce), nodeId, String(hello.nodeId))).digest('hex');
    ws.send(JSON.stringify({ type: 'auth', proof }));
    await next('auth');
    return client;
  }

  send(frame: string | Buffer | object): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.ws.terminate();
  }
}
