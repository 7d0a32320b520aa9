import type { Logger } from '@sync/core';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ['text', 'json'] as const;
export type LogFormat = (typeof logFormats)[number];
export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Receives one complete line (newline included). Default: process.stdout. */
  write?: (line: string) => void;
  now?: () => number;
}

/** core's Logger shape, plus a level check so callers can skip building costly fields. */
export interface AppLogger extends Logger {
  enabled(level: LogLevel): boolean;
}

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** JSON keys a field may not overwrite: a field named `msg` is written as `field.msg`. */
const reservedJsonKeys = new Set(['time', 'level', 'msg']);

export function createLogger(options: LoggerOptions): AppLogger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? Date.now;
  const threshold = severity[options.level];
  const format = options.format === 'json' ? formatJsonLine : formatTextLine;
  const log =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (severity[level] < threshold) return;
      write(format(now(), level, message, fields ?? {}) + '\n');
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    enabled: (level) => severity[level] >= threshold,
  };
}

/** `2026-11-24T22:00:00.000Z INFO  peer connected peer=node2 address=10.0.0.2:7070` */
export function formatTextLine(timeMs: number, level: LogLevel, message: string, fields: LogFields): string {
  const head = `${new Date(timeMs).toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(message)}`;
  const tail = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${textValue(value)}`);
  return tail.length === 0 ? head : `${head} ${tail.join(' ')}`;
}

/** `{"time":"2026-11-24T22:00:00.000Z","level":"info","msg":"peer connected","peer":"node2"}` */
export function formatJsonLine(timeMs: number, level: LogLevel, message: string, fields: LogFields): string {
  const entry: Record<string, unknown> = { time: new Date(timeMs).toISOString(), level, msg: message };
  for (const [key, value] of Object.entries(fields)) {
    entry[reservedJsonKeys.has(key) ? `field.${key}` : key] = value;
  }
  return safeJson(entry);
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) return String(value);
  if (value instanceof Error) return JSON.stringify(describeError(value));
  return safeJson(value);
}

function oneLine(message: string): string {
  return message.replace(/\r?\n/g, '\\n');
}

function describeError(error: Error): string {
  const code = 'code' in error && typeof error.code === 'string' && !error.message.startsWith(`${error.code}:`) ? ` [${error.code}]` : '';
  return `${error.name}: ${error.message}${code}`;
}

/** JSON.stringify that survives what loggers get handed: bigints, errors, cycles. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Error) {
      const code = 'code' in item ? item.code : undefined;
      return { name: item.name, message: item.message, ...(code === undefined ? {} : { code }) };
    }
    if (typeof item === 'object' && item !== null) {
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
    }
    return item;
  });
}
