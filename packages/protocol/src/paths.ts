import { ProtocolError, fail, ok } from './errors';
import type { PathErrorCode, Result } from './errors';
import { defaultLimits } from './limits';

export interface PathRuleOptions {
  /** Name of the state directory inside the synced folder; paths into it are rejected. */
  stateDirName?: string;
  pathBytesMax?: number;
  segmentBytesMax?: number;
}

export const defaultStateDirName = '.sync';

const utf8 = new TextEncoder();
// C0 controls, DEL and C1 controls (all of Unicode's Cc); NUL gets its own code because it is the
// classic truncation attack.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0001-\u001f\u007f-\u009f]/;
// A lone surrogate becomes U+FFFD when the name is encoded for the filesystem, so distinct wire paths
// would alias one file on disk. With the `u` flag a valid surrogate pair is one code point, never Cs.
const loneSurrogate = /\p{Cs}/u;

const reject = (code: PathErrorCode, path: string): Result<never> =>
  fail(new ProtocolError(code, `rejected path ${JSON.stringify(path.slice(0, 200))}`));

/**
 * Checks a relative POSIX path from a peer or the local scanner and returns its NFC form.
 * Every path the engine touches passes here first, so no path can leave the synced folder.
 */
/**
 * UTF-8 length, or a lower bound when that already proves the text within `max`: a UTF-16 unit
 * takes at most 3 bytes, so short text needs no encoding (the engine checks every path it touches).
 */
function utf8Bytes(text: string, max: number): number {
  return text.length * 3 <= max ? text.length : utf8.encode(text).byteLength;
}

export function validatePath(path: string, options: PathRuleOptions = {}): Result<string> {
  const stateDirName = options.stateDirName ?? defaultStateDirName;
  const pathBytesMax = options.pathBytesMax ?? defaultLimits.pathBytesMax;
  const segmentBytesMax = options.segmentBytesMax ?? defaultLimits.segmentBytesMax;

  if (path.length === 0) return reject('PATH_EMPTY', path);
  if (path.includes('\u0000')) return reject('PATH_NUL', path);
  if (controlChars.test(path)) return reject('PATH_CONTROL_CHAR', path);
  if (loneSurrogate.test(path)) return reject('PATH_INVALID_UNICODE', path);
  if (path.includes('\\')) return reject('PATH_BACKSLASH', path);
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return reject('PATH_ABSOLUTE', path);

  const normalized = path.normalize('NFC');
  if (utf8Bytes(normalized, pathBytesMax) > pathBytesMax) return reject('PATH_TOO_LONG', path);

  const segments = normalized.split('/');
  for (const segment of segments) {
    if (segment === '') return reject('PATH_EMPTY_SEGMENT', path);
    if (segment === '..') return reject('PATH_TRAVERSAL', path);
    if (segment === '.') return reject('PATH_DOT_SEGMENT', path);
    if (utf8Bytes(segment, segmentBytesMax) > segmentBytesMax) return reject('PATH_SEGMENT_TOO_LONG', path);
  }
  // Case-insensitive because on macOS and Windows `.SYNC/x` opens the same directory as `.sync/x`.
  if (segments[0]?.toLowerCase() === stateDirName.normalize('NFC').toLowerCase()) return reject('PATH_STATE_DIR', path);
  return ok(normalized);
}

/** True when `path` is valid and already in its canonical (NFC) form, as wire paths must be. */
export function isCanonicalPath(path: string, options?: PathRuleOptions): boolean {
  const result = validatePath(path, options);
  return result.ok && result.value === path;
}
