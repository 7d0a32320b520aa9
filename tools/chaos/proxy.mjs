// A TCP proxy per link that can delay, blackhole or cut the traffic between two nodes. A blackhole
// stalls the link, as a real one does to TCP: nothing arrives, the connection looks alive, and
// once the link heals what was held back arrives in order (TCP retransmits it). Swallowing the
// bytes instead would leave a stream that resumes mid-frame, which no network does.
import { createConnection, createServer } from 'node:net';

export class FaultProxy {
  /** @param {number} targetPort */
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.mode = 'pass';
    this.delayMs = 0;
    this.pairs = new Set();
    /** @type {Set<() => void>} what the blackhole holds back, released when the link heals */
    this.held = new Set();
    this.server = createServer((client) => this.accept(client));
  }

  listen(port = 0) {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve(this.server.address().port)));
  }

  /** pass | delay | blackhole | cut */
  set(mode, delayMs = 0) {
    this.mode = mode;
    this.delayMs = delayMs;
    if (mode === 'cut') {
      for (const { client, upstream } of this.pairs) {
        client.destroy();
        upstream.destroy();
      }
    }
    if (mode !== 'blackhole') {
      const held = [...this.held];
      this.held.clear();
      for (const release of held) release();
    }
  }

  accept(client) {
    if (this.mode === 'cut') return client.destroy();
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    const pair = { client, upstream };
    this.pairs.add(pair);
    const forward = (from, to) => {
      from.on('data', (chunk) => {
        if (this.mode === 'blackhole') {
          from.pause();
          this.held.add(() => {
            if (!to.destroyed) to.write(chunk);
            from.resume();
          });
        } else if (this.mode === 'delay' && this.delayMs > 0) {
          from.pause();
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
            from.resume();
          }, this.delayMs);
        } else if (!to.destroyed) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }

  close() {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
