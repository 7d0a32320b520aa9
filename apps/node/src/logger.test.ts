import { describe, expect, it } from 'vitest';
import { createLogger, formatJsonLine, formatTextLine } from './logger';
import type { LogFormat, LogLevel } from './logger';

const at = Date.UTC(2026, 10, 24, 22, 0, 0);

function capture(level: LogLevel, format: LogFormat) {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (line) => lines.push(line), now: () => at });
  return { logger, lines };
}

describe('text format', () => {
  it('writes one readable line: time, padded level, message, key=value fields', () => {
    expect(formatTextLine(at, 'info', 'peer connected', { peer: 'node2', address: '10.0.0.2:7070' })).toBe(
      '2026-11-24T22:00:00.000Z INFO  peer connected peer=node2 address=10.0.0.2:7070',
    );
    expect(formatTextLine(at, 'error', 'x', {})).toBe('2026-11-24T22:00:00.000Z ERROR x');
  });

  it('quotes values that would break key=value parsing and skips undefined', () => {
    const line = formatTextLine(at, 'warn', 'conflict', { path: 'my file.txt', empty: '', eq: 'a=b', n: 3, ok: true, nothing: null, gone: undefined });
    expect(line).toBe('2026-11-24T22:00:00.000Z WARN  conflict path="my file.txt" empty="" eq="a=b" n=3 ok=true nothing=null');
  });

  it('keeps a multi-line message or value on one line', () => {
    const line = formatTextLine(at, 'error', 'first\nsecond', { stack: 'a\nb' });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('first\\nsecond');
    expect(line).toContain('stack="a\\nb"');
  });

  it('renders errors and objects compactly', () => {
    const error = Object.assign(new Error('boom'), { code: 'EIO' });
    expect(formatTextLine(at, 'error', 'x', { error, peers: ['a', 'b'] })).toBe('2026-11-24T22:00:00.000Z ERROR x error="Error: boom [EIO]" peers=["a","b"]');
  });
});

describe('json format', () => {
  it('writes one JSON object per line with time, level and msg first', () => {
    const line = formatJsonLine(at, 'info', 'synced', { path: 'a.txt', bytes: 3 });
    expect(line).toBe('{"time":"2026-11-24T22:00:00.000Z","level":"info","msg":"synced","path":"a.txt","bytes":3}');
  });

  it('does not let fields overwrite time, level or msg', () => {
    expect(JSON.parse(formatJsonLine(at, 'warn', 'm', { msg: 'other', level: 'x' }))).toEqual({
      time: '2026-11-24T22:00:00.000Z',
      level: 'warn',
      msg: 'm',
      'field.msg': 'other',
      'field.level': 'x',
    });
  });

  it('survives bigints, errors and cycles', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    const parsed = JSON.parse(formatJsonLine(at, 'error', 'm', { big: 10n, error: new TypeError('bad'), cycle })) as Record<string, unknown>;
    expect(parsed.big).toBe('10');
    expect(parsed.error).toEqual({ name: 'TypeError', message: 'bad' });
    expect(parsed.cycle).toEqual({ name: 'loop', self: '[Circular]' });
  });
});

describe('createLogger', () => {
  it('drops events below the level and ends every line with a newline', () => {
    const { logger, lines } = capture('warn', 'text');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e', { code: 'X' });
    expect(lines).toEqual(['2026-11-24T22:00:00.000Z WARN  w\n', '2026-11-24T22:00:00.000Z ERROR e code=X\n']);
    expect(logger.enabled('info')).toBe(false);
    expect(logger.enabled('error')).toBe(true);
  });

  it('writes everything at debug, as JSON when asked', () => {
    const { logger, lines } = capture('debug', 'json');
    logger.debug('d', { a: 1 });
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ time: '2026-11-24T22:00:00.000Z', level: 'debug', msg: 'd', a: 1 }]);
  });
});
