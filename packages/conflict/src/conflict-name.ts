import { ConflictError } from './errors';
import { assertNodeId } from './node-id';

const conflictMarker = '.sync-conflict-';
/** The protocol's limit on one path segment; a conflict copy must still be a valid path. */
const segmentBytesMax = 255;
/** An extension longer than this is treated as part of the name when the segment must be shortened. */
const extensionBytesMax = 32;

const conflictSegmentPattern = /\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9_-]{1,64}(?:\.[^./]*)?$/;
const utf8 = new TextEncoder();

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const utf8Bytes = (text: string): number => utf8.encode(text).length;

/** `YYYYMMDD-HHMMSS` in UTC; fractions of a second are dropped (floored, also before 1970). */
function formatUtc(mtimeMs: number): string {
  const date = new Date(Number.isFinite(mtimeMs) ? Math.floor(mtimeMs) : Number.NaN);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    throw new ConflictError('INVALID_TIME', `mtime ${mtimeMs} has no YYYYMMDD form`);
  }
  const day = `${pad(year, 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  return `${day}-${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/** Cuts whole code points off the end until `text` fits in `bytesMax` UTF-8 bytes. */
function truncateUtf8(text: string, bytesMax: number): string {
  let bytes = 0;
  let kept = '';
  for (const codePoint of text) {
    bytes += utf8Bytes(codePoint);
    if (bytes > bytesMax) break;
    kept += codePoint;
  }
  return kept;
}

/** A leading dot starts a name (`.bashrc`), not an extension; a trailing dot is an empty extension. */
function splitExtension(segment: string): [stem: string, extension: string] {
  const dot = segment.lastIndexOf('.');
  return dot > 0 ? [segment.slice(0, dot), segment.slice(dot)] : [segment, ''];
}

// Without shortening, a long name's conflict copy could never be written (ENAMETOOLONG) and the
// losing content would be lost; the suffix is kept whole so the copy stays recognisable.
function fitSegment(stem: string, suffix: string, extension: string): string {
  const whole = `${stem}${suffix}${extension}`;
  if (utf8Bytes(whole) <= segmentBytesMax) return whole;
  const keptExtension = utf8Bytes(extension) <= extensionBytesMax ? extension : '';
  const base = keptExtension === extension ? stem : `${stem}${extension}`;
  const baseBytesMax = segmentBytesMax - utf8Bytes(suffix) - utf8Bytes(keptExtension);
  return `${truncateUtf8(base, baseBytesMax)}${suffix}${keptExtension}`;
}

/**
 * `<stem>.sync-conflict-<YYYYMMDD-HHMMSS of loserMtimeMs, UTC>-<loserNodeId><.ext>`, applied to the
 * last path segment. The same loser gives the same name on every node, so copies made at once merge.
 */
export function conflictName(path: string, loserMtimeMs: number, loserNodeId: string): string {
  assertNodeId(loserNodeId);
  const slash = path.lastIndexOf('/');
  const directory = path.slice(0, slash + 1);
  const segment = path.slice(slash + 1);
  if (segment === '') throw new ConflictError('INVALID_PATH', `no file name in ${JSON.stringify(path)}`);
  const [stem, extension] = splitExtension(segment);
  const suffix = `${conflictMarker}${formatUtc(loserMtimeMs)}-${loserNodeId}`;
  return `${directory}${fitSegment(stem, suffix, extension)}`;
}

/** True when the last segment of `path` has the form `conflictName` produces. */
export function isConflictName(path: string): boolean {
  return conflictSegmentPattern.test(path.slice(path.lastIndexOf('/') + 1));
}
