import { describe, expect, it } from 'vitest';
import type { SyncEvents } from '@sync/core';
import { attachEventLog } from './event-log';
import { createLogger } from './logger';
import type { LogLevel } from './logger';
import { ProgressLog } from './progress-log';
import { FakeNode } from './testing/fake-node';

function setup(level: LogLevel = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, format: 'json', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>), now: () => 0 });
  const node = new FakeNode();
  const synced: unknown[] = [];
  let now = 100_000;
  const progress = new ProgressLog(logger, { now: () => now });
  const hashing = new ProgressLog(logger, { now: () => now, message: 'hashing progress' });
  const detach = attachEventLog(node, { logger, onSynced: (event) => synced.push(event), progress, hashing });
  return { node, lines, synced, detach, advance: (ms: number) => (now += ms), at: () => now };
}

const strip = ({ time: _time, ...rest }: Record<string, unknown>) => rest;

describe('attachEventLog', () => {
  it('logs peers coming and going', () => {
    const { node, lines } = setup();
    node.emit('peer-connected', { peerId: 'node2', address: '10.0.0.2:7070', direction: 'outbound' });
    node.emit('peer-disconnected', { peerId: 'node2', reason: 'closed by peer' });
    expect(lines.map(strip)).toEqual([
      { level: 'info', msg: 'peer up', peer: 'node2', address: '10.0.0.2:7070', direction: 'outbound' },
      { level: 'info', msg: 'peer down', peer: 'node2', reason: 'closed by peer' },
    ]);
  });

  it('logs a synced file with its size and time taken and passes the event on', () => {
    const { node, lines, synced } = setup();
    const event = { path: 'docs/a.pdf', op: 'add', type: 'file', bytes: 3 * 1024 * 1024, fromPeer: 'node2', durationMs: 1234 } as const;
    node.emit('file-synced', event);
    node.emit('file-synced', { path: 'old.txt', op: 'remove', type: 'file', bytes: 0, fromPeer: 'node3', durationMs: 2 });
    expect(lines.map(strip)).toEqual([
      { level: 'info', msg: 'synced', path: 'docs/a.pdf', op: 'add', type: 'file', size: '3.00 MiB', from: 'node2', took: '1.2 s' },
      { level: 'info', msg: 'removed', path: 'old.txt', op: 'remove', type: 'file', from: 'node3', took: '2 ms' },
    ]);
    expect(synced[0]).toEqual(event);
  });

  it('logs conflicts as warnings and errors as errors', () => {
    const { node, lines } = setup();
    node.emit('conflict', { path: 'a.txt', copyPath: 'a.sync-conflict-20260101-000000-node2.txt', winner: 'node1', loser: 'node2', kind: 'newer-wins' });
    const error = Object.assign(new Error('IO: disk full'), { name: 'SyncError', code: 'IO' as const, path: 'a.txt' });
    node.emit('error', error as Parameters<SyncEvents['error']>[0]);
    expect(lines.map(strip)).toEqual([
      { level: 'warn', msg: 'conflict', path: 'a.txt', kept: 'a.sync-conflict-20260101-000000-node2.txt', winner: 'node1', loser: 'node2', kind: 'newer-wins' },
      { level: 'error', msg: 'sync error', code: 'IO', path: 'a.txt', error: 'IO: disk full' },
    ]);
  });

  it('turns progress of long transfers into occasional lines and forgets them when synced', () => {
    const { node, lines, at, advance } = setup();
    const startedAtMs = at() - 1500;
    node.emit('progress', { path: 'big.iso', bytesDone: 50, bytesTotal: 100, startedAtMs });
    advance(250);
    node.emit('progress', { path: 'big.iso', bytesDone: 60, bytesTotal: 100, startedAtMs });
    expect(lines.map((line) => [line.msg, line.percent])).toEqual([['transfer progress', 50]]);
    node.emit('file-synced', { path: 'big.iso', op: 'add', type: 'file', bytes: 100, fromPeer: 'n', durationMs: 1800 });
    node.emit('progress', { path: 'big.iso', bytesDone: 10, bytesTotal: 100, startedAtMs: at() - 2000 });
    expect(lines.map((line) => line.msg)).toEqual(['transfer progress', 'synced', 'transfer progress']);
  });

  it('logs a long hash of a local file as hashing progress, apart from transfers of the same path', () => {
    const { node, lines, at, advance } = setup();
    const startedAtMs = at() - 1200;
    node.emit('hash-progress', { path: 'big.iso', bytesDone: 30, bytesTotal: 100, startedAtMs });
    node.emit('progress', { path: 'big.iso', bytesDone: 40, bytesTotal: 100, startedAtMs });
    advance(1000);
    node.emit('hash-progress', { path: 'big.iso', bytesDone: 100, bytesTotal: 100, startedAtMs });
    node.emit('hash-progress', { path: 'big.iso', bytesDone: 20, bytesTotal: 100, startedAtMs: at() - 3000 });
    expect(lines.map((line) => [line.msg, line.percent])).toEqual([
      ['hashing progress', 30],
      ['transfer progress', 40],
      ['hashing progress', 20],
    ]);
  });

  it('logs local changes and steps only at debug', () => {
    const quiet = setup('info');
    quiet.node.emit('local-change', { path: 'a', op: 'add', type: 'file' });
    expect(quiet.lines).toEqual([]);
    const chatty = setup('debug');
    chatty.node.emit('local-change', { path: 'a', op: 'add', type: 'file' });
    chatty.node.emit('step', { op: 'mkdir', path: 'd', type: 'dir', size: 0 });
    expect(chatty.lines.map((line) => line.msg)).toEqual(['local change', 'step']);
  });

  it('unsubscribes everything it subscribed', () => {
    const { node, detach } = setup();
    expect(node.listenerCount()).toBeGreaterThan(0);
    detach();
    expect(node.listenerCount()).toBe(0);
  });
});
