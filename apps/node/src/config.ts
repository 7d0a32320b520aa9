import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import type { ConflictPolicy } from '@sync/core';
import { DaemonError, isDaemonError } from './errors';
import { helpText, seeHelp } from './help';
import { logFormats, logLevels } from './logger';
import type { LogFormat, LogLevel } from './logger';
import { defaultDir, defaultHttp, defaultListen, defaultPollMs, defaultRescanMinutes, knownEnvNames, optionDocs, pollMsMax, pollMsMin, rescanMinutesMax, secretCharsMin } from './options';

export interface HostPort {
  host: string;
  port: number;
}

export interface NodeConfig {
  dir: string;
  stateDir: string;
  listen: HostPort;
  peers: string[];
  /** undefined: the engine reads or generates the persisted id. */
  nodeId: string | undefined;
  /** '' only when `insecure` is true. */
  secret: string;
  insecure: boolean;
  /** Where the secret came from (`--secret-file`, `SYNC_SECRET`, …), for the start-up log; never the secret. */
  secretSource: string;
  /** null: no HTTP listener. */
  http: HostPort | null;
  conflictPolicy: ConflictPolicy;
  /** false: filesystem events. */
  pollIntervalMs: number | false;
  /** Minutes between full walks of the folder; false: never. */
  rescanMinutes: number | false;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** How long versions replaced or deleted by remote changes are kept in the state dir. */
  keepVersionsDays: number;
  /** PEM certificate and key for a wss:// listener, and fingerprints wss:// peers must present. */
  tls: { cert?: string; key?: string; pins: string[] } | null;
}

export type ConfigResult =
  | { kind: 'run'; config: NodeConfig; warnings: string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'error'; message: string; exitCode: 2 };

export type Env = Readonly<Record<string, string | undefined>>;
/** Reads a UTF-8 file or throws. Injected so parsing stays a pure function. */
export type ReadFile = (path: string) => string;

/** Same values as core's `conflictPolicies`, kept here so parsing does not load the engine. */
const conflictPolicyNames = ['keep-both', 'newest-wins'] as const satisfies readonly ConflictPolicy[];

const flagSpecs = {
  dir: { type: 'string' },
  listen: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'node-id': { type: 'string' },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  insecure: { type: 'boolean' },
  'state-dir': { type: 'string' },
  http: { type: 'string' },
  conflict: { type: 'string' },
  poll: { type: 'string' },
  rescan: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'keep-versions': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-pin': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type FlagValues = ReturnType<typeof parseFlags>;

/** A setting's text and where it came from, so an error can name the flag or variable to fix. */
interface Raw {
  text: string;
  source: string;
}

/**
 * argv (without node and script) + environment → what to do. Never throws for bad input and
 * never exits: the caller prints and exits, so every branch is unit-testable.
 */
export function parseConfig(argv: readonly string[], env: Env, readFile: ReadFile): ConfigResult {
  const flags = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length);
  if (flags.includes('--help') || flags.includes('-h')) return { kind: 'help', text: helpText() };
  if (flags.includes('--version')) return { kind: 'version' };
  try {
    return resolveConfig(parseFlags(argv), env, readFile);
  } catch (error) {
    if (isDaemonError(error)) return { kind: 'error', message: `${error.detail}\n${seeHelp}`, exitCode: 2 };
    throw error;
  }
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: withPollValues(argv), options: flagSpecs, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new DaemonError('USAGE', describeParseError(error), { cause: error });
  }
}

/** parseArgs has no optional values; `--poll` alone or followed by another flag means "on". */
function withPollValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--poll') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && /^(\d+|on|off|true|false|yes|no)$/i.test(next)) {
      out.push(`--poll=${next}`);
      i++;
    } else {
      out.push('--poll=on');
    }
  }
  return out;
}

function describeParseError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted}${suggestion(quoted)}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument '${quoted}': sync-node takes only flags (values go right after their flag)`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const doc = optionDocs.find((d) => d.flag === quoted);
    if (message.includes('does not take an argument')) return `${quoted} is a switch and takes no value`;
    return `${quoted} needs a value: ${quoted} ${doc?.value ?? 'VALUE'} (use ${quoted}=VALUE for a value starting with -)`;
  }
  return message;
}

function suggestion(flag: string): string {
  const name = flag.replace(/^-+/, '');
  const close = optionDocs.map((d) => d.flag).find((candidate) => editDistance(candidate.slice(2), name) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function resolveConfig(flags: FlagValues, env: Env, readFile: ReadFile): ConfigResult {
  const warnings: string[] = [];
  const setting = (flag: keyof FlagValues, envName: string): Raw | undefined => {
    const value = flags[flag];
    if (typeof value === 'string') return { text: value, source: `--${flag}` };
    const fromEnv = env[envName];
    // Compose files pass `SYNC_X=` for "unset"; an empty variable is no setting at all.
    return fromEnv !== undefined && fromEnv.trim() !== '' ? { text: fromEnv, source: envName } : undefined;
  };

  const dirRaw = setting('dir', 'SYNC_DIR');
  const dir = dirRaw ? check(pathSchema, dirRaw) : defaultDir;
  const stateDirRaw = setting('state-dir', 'SYNC_STATE_DIR');
  const auth = resolveSecret(flags, env, readFile, warnings);
  const listenRaw = setting('listen', 'SYNC_LISTEN');
  const httpRaw = setting('http', 'SYNC_HTTP');
  const nodeIdRaw = setting('node-id', 'SYNC_NODE_ID');
  const conflictRaw = setting('conflict', 'SYNC_CONFLICT');
  const pollRaw = setting('poll', 'SYNC_POLL');
  const rescanRaw = setting('rescan', 'SYNC_RESCAN');
  const levelRaw = setting('log-level', 'SYNC_LOG_LEVEL');
  const formatRaw = setting('log-format', 'SYNC_LOG_FORMAT');
  const keepRaw = setting('keep-versions', 'SYNC_KEEP_VERSIONS');
  const config: NodeConfig = {
    dir,
    stateDir: stateDirRaw ? check(pathSchema, stateDirRaw) : join(dir, '.sync'),
    listen: listenRaw ? check(hostPortSchema(defaultListen.host), listenRaw) : { ...defaultListen },
    peers: resolvePeers(flags, env),
    nodeId: nodeIdRaw ? check(nodeIdSchema, nodeIdRaw) : undefined,
    ...auth,
    http: httpRaw ? check(httpSchema, httpRaw) : { ...defaultHttp },
    conflictPolicy: conflictRaw ? check(conflictSchema, conflictRaw) : 'keep-both',
    pollIntervalMs: pollRaw ? check(pollSchema, pollRaw) : false,
    rescanMinutes: rescanRaw ? check(rescanSchema, rescanRaw) : defaultRescanMinutes,
    logLevel: levelRaw ? check(logLevelSchema, levelRaw) : 'info',
    logFormat: formatRaw ? check(logFormatSchema, formatRaw) : 'text',
    keepVersionsDays: keepRaw ? check(keepVersionsSchema, keepRaw) : 7,
    tls: resolveTls(setting('tls-cert', 'SYNC_TLS_CERT'), setting('tls-key', 'SYNC_TLS_KEY'), flags, env, readFile),
  };
  if (config.listen.port === 0) warnings.push('--listen port 0 picks a random port: peers cannot be configured to reach it');
  warnings.push(...unknownEnvWarnings(env));
  return { kind: 'run', config, warnings };
}

function check<T>(schema: z.ZodType<T>, raw: Raw): T {
  const result = schema.safeParse(raw.text);
  if (result.success) return result.data;
  const reason = result.error.issues[0]?.message ?? 'invalid value';
  throw new DaemonError('USAGE', `invalid ${raw.source} ${JSON.stringify(raw.text)}: ${reason}`);
}

const pathSchema = z.string().min(1, 'expected a path');

const nodeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1 to 64 characters from A-Z a-z 0-9 _ -');

const conflictSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(conflictPolicyNames, { error: `expected one of ${conflictPolicyNames.join(', ')}` }));

const logLevelSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }));

const logFormatSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(logFormats, { error: `expected one of ${logFormats.join(', ')}` }));

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off']);

const switchSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((text, ctx) => {
    if (truthy.has(text)) return true;
    if (falsy.has(text)) return false;
    ctx.addIssue({ code: 'custom', message: 'expected 1/true/yes/on or 0/false/no/off' });
    return z.NEVER;
  });

const keepVersionsSchema = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a number of days, e.g. 7 (0 keeps no versions)')
  .transform(Number)
  .pipe(z.number().max(3650, 'at most 3650 days'));

/** A whole number from `min` to `max`, or off (false); `on`, when given, is what a bare switch means. */
function countOrOffSchema(min: number, max: number, expected: string, on?: number) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .transform((text, ctx): number | false => {
      if (falsy.has(text)) return false;
      if (on !== undefined && truthy.has(text) && text !== '1') return on;
      const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (value >= min && value <= max) return value;
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    });
}

const rescanSchema = countOrOffSchema(1, rescanMinutesMax, `expected minutes from 1 to ${rescanMinutesMax}, or off`);

const pollSchema = countOrOffSchema(pollMsMin, pollMsMax, `expected an interval in ms from ${pollMsMin} to ${pollMsMax}, on (${defaultPollMs} ms) or off`, defaultPollMs);

function hostPortSchema(defaultHost: string) {
  return z
    .string()
    .trim()
    .transform((text, ctx): HostPort => {
      const parsed = parseHostPort(text, defaultHost);
      if (typeof parsed !== 'string') return parsed;
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    });
}

const httpSchema = z
  .string()
  .trim()
  .transform((text, ctx): HostPort | null => {
    if (text.toLowerCase() === 'off') return null;
    const parsed = parseHostPort(text, defaultHttp.host);
    if (typeof parsed !== 'string') return parsed;
    ctx.addIssue({ code: 'custom', message: `${parsed}, or off` });
    return z.NEVER;
  });

/** HOST:PORT, [IPV6]:PORT, :PORT or PORT → address, or the reason it is not one. */
export function parseHostPort(text: string, defaultHost: string): HostPort | string {
  const expected = 'expected HOST:PORT (e.g. 127.0.0.1:7070, [::1]:7070) or PORT';
  const portOnly = /^(\d+)$/.exec(text);
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(text);
  const plain = /^([^:[\]]*):(\d+)$/.exec(text);
  const [, host, portText] = bracketed ?? plain ?? (portOnly ? [text, '', portOnly[1]] : []);
  if (portText === undefined || host === undefined) return expected;
  const port = Number(portText);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  if (bracketed) return isIP(host) === 6 ? { host, port } : `${JSON.stringify(host)} is not an IPv6 address`;
  if (host === '') return { host: defaultHost, port };
  if (isIP(host) === 4 || /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(host)) return { host, port };
  return `${JSON.stringify(host)} is not a host name or IP address`;
}

const peerSchema = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const reason = peerUrlProblem(text);
    if (reason === null) return text;
    ctx.addIssue({ code: 'custom', message: reason });
    return z.NEVER;
  });

function peerUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected a URL like ws://host:7070 or wss://host';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `expected ws:// or wss://, not ${url.protocol}//`;
  if (!url.hostname) return 'the URL has no host';
  if (url.username || url.password) return 'credentials do not belong in the URL: all nodes share --secret';
  return null;
}

const fingerprintSchema = z
  .string()
  .transform((text) => text.replace(/:/g, '').toUpperCase())
  .pipe(z.string().regex(/^[0-9A-F]{64}$/, 'expected a SHA-256 fingerprint: 64 hex digits, colons allowed (openssl x509 -noout -fingerprint -sha256)'));

function resolveTls(certRaw: Raw | undefined, keyRaw: Raw | undefined, flags: FlagValues, env: Env, readFile: ReadFile): NodeConfig['tls'] {
  const pinRaws: Raw[] =
    (flags['tls-pin'] ?? []).length > 0
      ? (flags['tls-pin'] ?? []).map((text) => ({ text, source: '--tls-pin' }))
      : (env.SYNC_TLS_PINS ?? '')
          .split(/[,\s]+/)
          .filter((text) => text !== '')
          .map((text) => ({ text, source: 'SYNC_TLS_PINS' }));
  const pins = pinRaws.map((raw) => check(fingerprintSchema, raw));
  if (!certRaw !== !keyRaw) {
    const missing = certRaw ? '--tls-key (SYNC_TLS_KEY)' : '--tls-cert (SYNC_TLS_CERT)';
    throw new DaemonError('USAGE', `${(certRaw ?? keyRaw)?.source} needs ${missing} too`);
  }
  if (!certRaw || !keyRaw) return pins.length > 0 ? { pins } : null;
  const read = (raw: Raw, what: string): string => {
    let text: string;
    try {
      text = readFile(raw.text);
    } catch (error) {
      throw new DaemonError('USAGE', `${raw.source}: cannot read the ${what} ${raw.text}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!text.includes('-----BEGIN')) throw new DaemonError('USAGE', `${raw.source}: ${raw.text} is not a PEM ${what}`);
    return text;
  };
  return { cert: read(certRaw, 'certificate'), key: read(keyRaw, 'private key'), pins };
}

function resolvePeers(flags: FlagValues, env: Env): string[] {
  const fromFlags = flags.peer ?? [];
  const raws: Raw[] =
    fromFlags.length > 0
      ? fromFlags.map((text) => ({ text, source: '--peer' }))
      : (env.SYNC_PEERS ?? '')
          .split(/[,\s]+/)
          .filter((text) => text !== '')
          .map((text) => ({ text, source: 'SYNC_PEERS' }));
  const peers: string[] = [];
  const seen = new Set<string>();
  for (const raw of raws) {
    const peer = check(peerSchema, raw);
    const key = new URL(peer).href;
    if (seen.has(key)) continue;
    seen.add(key);
    peers.push(peer);
  }
  return peers;
}

/**
 * The secret is one setting with three spellings per level (value, file, insecure). Any flag
 * spelling overrides every environment spelling; two spellings at one level are a mistake.
 */
function resolveSecret(flags: FlagValues, env: Env, readFile: ReadFile, warnings: string[]): Pick<NodeConfig, 'secret' | 'insecure' | 'secretSource'> {
  type Choice = { source: string; secret: () => string } | { source: string; insecure: true };
  const flagChoices: Choice[] = [];
  if (flags.secret !== undefined) flagChoices.push({ source: '--secret', secret: () => flags.secret ?? '' });
  if (flags['secret-file'] !== undefined) {
    const file = flags['secret-file'];
    flagChoices.push({ source: '--secret-file', secret: () => readSecretFile(file, '--secret-file', readFile) });
  }
  if (flags.insecure === true) flagChoices.push({ source: '--insecure', insecure: true });
  const envChoices: Choice[] = [];
  const envSecret = env.SYNC_SECRET;
  if (envSecret !== undefined && envSecret !== '') envChoices.push({ source: 'SYNC_SECRET', secret: () => envSecret });
  const envFile = env.SYNC_SECRET_FILE;
  if (envFile !== undefined && envFile.trim() !== '') envChoices.push({ source: 'SYNC_SECRET_FILE', secret: () => readSecretFile(envFile.trim(), 'SYNC_SECRET_FILE', readFile) });
  const envInsecure = env.SYNC_INSECURE;
  if (envInsecure !== undefined && envInsecure.trim() !== '' && check(switchSchema, { text: envInsecure, source: 'SYNC_INSECURE' })) {
    envChoices.push({ source: 'SYNC_INSECURE', insecure: true });
  }

  const choices = flagChoices.length > 0 ? flagChoices : envChoices;
  if (choices.length > 1) {
    throw new DaemonError('USAGE', `${choices.map((c) => c.source).join(' and ')} cannot be combined: give exactly one of a secret, a secret file or insecure mode`);
  }
  const choice = choices[0];
  if (choice === undefined) {
    throw new DaemonError(
      'NO_SECRET',
      [
        'refusing to start without a cluster secret: every node must share one so strangers cannot read or change the folder.',
        'Set one with --secret-file FILE, --secret S, SYNC_SECRET_FILE=FILE or SYNC_SECRET=S',
        '(e.g. `openssl rand -hex 32 > secret` and give every node the same file),',
        'or pass --insecure (SYNC_INSECURE=1) on a network you fully trust.',
      ].join('\n'),
    );
  }
  if ('insecure' in choice) {
    warnings.push('running without a secret (insecure): any host that can reach the listen address can read and change this folder');
    return { secret: '', insecure: true, secretSource: choice.source };
  }
  const secret = choice.secret();
  if (secret === '') throw new DaemonError('USAGE', `invalid ${choice.source}: the secret is empty`);
  if (secret.length < secretCharsMin) warnings.push(`the secret from ${choice.source} is short (${secret.length} characters); use at least ${secretCharsMin} random characters, e.g. \`openssl rand -hex 32\``);
  if (choice.source === '--secret') warnings.push('--secret is visible to other local users in the process list; prefer --secret-file or SYNC_SECRET');
  return { secret, insecure: false, secretSource: choice.source };
}

function readSecretFile(path: string, source: string, readFile: ReadFile): string {
  if (path === '') throw new DaemonError('USAGE', `invalid ${source}: expected a file path`);
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DaemonError('SECRET_FILE', `cannot read the secret file ${path} (${source}): ${reason}`, { cause: error });
  }
  const secret = text.replace(/(\r?\n)+$/, '');
  if (secret === '') throw new DaemonError('SECRET_FILE', `the secret file ${path} (${source}) is empty`);
  return secret;
}

function unknownEnvWarnings(env: Env): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('SYNC_') && !knownEnvNames.includes(name))
    .map((name) => {
      const close = knownEnvNames.find((known) => editDistance(known, name) <= 2);
      return `ignoring unknown environment variable ${name}${close ? ` (did you mean ${close}?)` : ''}`;
    });
}
