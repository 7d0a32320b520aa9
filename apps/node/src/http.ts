import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, SyncStatus } from '@sync/core';
import { DaemonError } from './errors';

/** starting: the initial scan runs; running: syncing; stopping: shutting down. */
export type Health = 'starting' | 'running' | 'stopping';

export interface HttpHandlerOptions {
  status: () => SyncStatus;
  health: () => Health;
  metrics: { contentType: string; render(): Promise<string> };
  version: string;
  startedAtMs: number;
  now?: () => number;
  logger?: Logger;
  /** POST /confirm-deletes: publishes deletes held at start-up; resolves to how many. */
  confirmDeletes?: () => Promise<number>;
}

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** /healthz, /status and /metrics (GET and HEAD), and POST /confirm-deletes. */
export function createHttpHandler(options: HttpHandlerOptions): RequestHandler {
  const now = options.now ?? Date.now;
  const routes: Record<string, () => Promise<Reply> | Reply> = {
    '/healthz': () => {
      const health = options.health();
      return health === 'running' ? text(200, 'ok\n') : text(503, `${health}\n`);
    },
    '/status': () =>
      json(200, {
        version: options.version,
        uptimeSeconds: Math.round((now() - options.startedAtMs) / 1000),
        health: options.health(),
        ...options.status(),
      }),
    '/metrics': async () => ({ status: 200, contentType: options.metrics.contentType, body: await options.metrics.render() }),
  };
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = routes[path];
    const reply = async (): Promise<Reply> => {
      if (path === '/confirm-deletes' && options.confirmDeletes) {
        if (request.method !== 'POST') return { ...text(405, 'method not allowed: POST to confirm\n'), headers: { allow: 'POST' } };
        return json(200, { confirmed: await options.confirmDeletes() });
      }
      if (!route) return text(404, `not found: try /healthz, /status or /metrics\n`);
      if (request.method !== 'GET' && request.method !== 'HEAD') return { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
      return route();
    };
    Promise.resolve()
      .then(reply)
      .catch((error: unknown) => {
        options.logger?.error('http handler failed', { path, error: error instanceof Error ? error.message : String(error) });
        return text(500, 'internal error\n');
      })
      .then((result) => send(request, response, result), () => response.destroy());
  };
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

function text(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

function json(status: number, value: unknown): Reply {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) + '\n' };
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  response.end(request.method === 'HEAD' ? undefined : reply.body);
}

export interface HttpListener {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Listens on host:port (port 0: any free port); rejects with HTTP_LISTEN when the address is taken. */
export function startHttpServer(address: { host: string; port: number }, handler: RequestHandler): Promise<HttpListener> {
  const server = createServer(handler);
  // Scrapers keep connections open; do not let them hold up a shutdown.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new DaemonError('HTTP_LISTEN', `cannot serve HTTP on ${address.host}:${address.port}: ${error.code ?? error.message} (change --http or set it to off)`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      const bound = server.address() as AddressInfo;
      resolve({
        address: { host: bound.address, port: bound.port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
