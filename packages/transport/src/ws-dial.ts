import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { LookupFunction } from 'node:net';
import { TransportError } from './errors';
import type { LiveSocketOptions } from './live-frame-socket';
import { ClientFrameSocket } from './ws-client-socket';
import type { FrameReaderOptions } from './ws-frame-reader';

export interface DialOptions {
  handshakeTimeoutMs: number;
  reading: FrameReaderOptions;
  lookup: LookupFunction;
  socket: LiveSocketOptions;
}

/** Each connection reads into one buffer of this size, reused for every read. */
const readBufferBytes = 256 * 1024;
/** A server's answer to the upgrade request is a few hundred bytes; more is not a WebSocket server. */
const responseHeadBytesMax = 16 * 1024;
const acceptGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Opens a ws:// connection with a client of our own rather than `ws`'s. The socket reads into one
 * reused buffer (`onread`) and frames are parsed straight out of it; the bulk of a large payload
 * is read straight into the message's own buffer. So receiving a block allocates nothing but its
 * payload (or takes that from the engine's pool) and copies nothing. With `ws`, each 64 KiB read
 * was a fresh buffer and each message was copied again, and V8 answered that much external
 * memory with full collections.
 */
export function dialWebSocket(url: URL, options: DialOptions): Promise<ClientFrameSocket> {
  const failed = (detail: string, cause?: unknown): TransportError => new TransportError('DIAL_FAILED', `${url.href}: ${detail}`, { peer: url.href, cause });
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const readBuffer = Buffer.allocUnsafe(readBufferBytes);
    let head = '';
    let frames: ClientFrameSocket | null = null;
    const onBytes = (chunk: Buffer, length: number): void => {
      if (frames) return frames.push(chunk, length);
      head += chunk.toString('latin1', 0, length);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > responseHeadBytesMax) fail(failed('the server’s answer to the upgrade is too long'));
        return;
      }
      const problem = checkUpgradeResponse(head.slice(0, end), key);
      if (problem) return fail(failed(problem));
      clearTimeout(timer);
      socket.off('error', onError).off('close', onClose);
      frames = new ClientFrameSocket(socket, options.reading, options.socket);
      resolve(frames);
      // Frames the server sent right behind its answer arrived in the same read.
      const rest = length - (head.length - end - 4);
      if (rest < length) frames.push(chunk.subarray(rest, length), length - rest);
    };
    const socket = connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      lookup: options.lookup,
      onread: {
        // Called before every read: a large payload is read in place, the rest into readBuffer.
        buffer: () => frames?.readWindow() ?? readBuffer,
        callback: (length, buffer) => {
          if (buffer === readBuffer) onBytes(readBuffer, length);
          else frames?.pushIntoWindow(length);
          return true;
        },
      },
    });
    const fail = (error: TransportError): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(failed(`no WebSocket handshake within ${options.handshakeTimeoutMs} ms`)), options.handshakeTimeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(upgradeRequest(url, key)));
    const onError = (error: Error): void => fail(failed(error.message || 'connection failed', error));
    const onClose = (): void => fail(failed('the server closed the connection during the WebSocket handshake'));
    socket.once('error', onError).once('close', onClose);
  });
}

function upgradeRequest(url: URL, key: string): string {
  return [
    `GET ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

/** What is wrong with the server's answer to the upgrade request, or null if nothing is. */
export function checkUpgradeResponse(head: string, key: string): string | null {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) return `not an HTTP response: ${JSON.stringify(statusLine.slice(0, 40))}`;
  if (status !== '101') return `HTTP ${status}`;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'the server did not upgrade to WebSocket';
  const expected = createHash('sha1').update(key + acceptGuid).digest('base64');
  if (headers.get('sec-websocket-accept') !== expected) return 'the server’s Sec-WebSocket-Accept does not match the key';
  if (headers.has('sec-websocket-extensions')) return 'the server chose an extension that was not offered';
  if (headers.has('sec-websocket-protocol')) return 'the server chose a subprotocol that was not offered';
  return null;
}
