import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { WatcherError } from './errors';

export const defaultIgnoreFileName = '.syncignore';

const byteOrderMark = '\uFEFF';

/**
 * gitignore rules (the `ignore` package does the matching; see git's gitignore(5)). Matching is
 * case-sensitive, as git's is on Linux, so that every node of a mixed cluster agrees.
 */
export class IgnoreRules {
  /** The rule text as given (NFC), so a reload can tell whether anything changed. */
  readonly text: string;
  private readonly matcher: Ignore;
  /** No patterns at all: the common case, answered without `ignore`, which caches every path it is asked about (memory per file). */
  private readonly empty: boolean;

  private constructor(text: string) {
    this.text = text;
    this.matcher = ignore({ ignorecase: false }).add(text);
    this.empty = text.split(/\r?\n/).every((line) => line.trim() === '' || line.startsWith('#'));
  }

  /** Reads `<root>/<fileName>`; a missing file means no rules. */
  static async load(root: string, fileName: string = defaultIgnoreFileName): Promise<IgnoreRules> {
    const file = path.join(root, fileName);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return IgnoreRules.fromText('');
      throw new WatcherError('IGNORE_FILE_UNREADABLE', `cannot read ${file}`, { cause: error });
    }
    return IgnoreRules.fromText(text);
  }

  static fromText(text: string): IgnoreRules {
    const withoutBom = text.startsWith(byteOrderMark) ? text.slice(byteOrderMark.length) : text;
    // Paths are compared in NFC; a rule typed on a system that writes NFD must still match.
    return new IgnoreRules(withoutBom.normalize('NFC'));
  }

  /**
   * `relativePath` is POSIX and relative to the root; a leading './' or a trailing '/' is
   * tolerated. The root itself and paths that leave it are never ignored.
   */
  isIgnored(relativePath: string, isDirectory: boolean): boolean {
    if (this.empty) return false;
    const normalised = trimPath(relativePath.normalize('NFC'));
    if (normalised === '' || !ignore.isPathValid(normalised)) return false;
    // A trailing slash is how `ignore` learns that the path is a directory (for `build/` rules).
    return this.matcher.ignores(isDirectory ? `${normalised}/` : normalised);
  }
}

function trimPath(relativePath: string): string {
  let trimmed = relativePath;
  while (trimmed.startsWith('./')) trimmed = trimmed.slice(2);
  while (trimmed.endsWith('/')) trimmed = trimmed.slice(0, -1);
  return trimmed === '.' ? '' : trimmed;
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
