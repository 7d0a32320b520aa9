import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathErrorCode } from './errors';
import { defaultStateDirName, isCanonicalPath, validatePath } from './paths';

const codeOf = (path: string, options?: Parameters<typeof validatePath>[1]): string => {
  const result = validatePath(path, options);
  return result.ok ? 'ok' : result.error.code;
};

/** A path of exactly `bytes` ASCII bytes in 200-byte segments, so only the total length can fail. */
function pathOfBytes(bytes: number): string {
  // Each "s{200}/" unit is 201 bytes; the last segment takes the rest (1 to 201 bytes, never empty).
  const units = Math.floor((bytes - 1) / 201);
  return `${'s'.repeat(200)}/`.repeat(units) + 'p'.repeat(bytes - units * 201);
}

describe('validatePath: accepted paths', () => {
  // Goal: ordinary names, including ones that merely look like the forbidden ones, pass unchanged.
  const accepted = [
    'a',
    'a/b/c.txt',
    'docs/readme.md',
    '.hidden',
    '.syncignore',
    '.sync2/x',
    'sync/x',
    'a/.sync',
    'a/.sync/x',
    '...',
    '..a',
    'a..',
    'a/.../b',
    'ab:c',
    ' spaced name ',
    'ünïcödé/ファイル.txt',
    'emoji/😀.png',
    's'.repeat(255),
    `${'é'.repeat(127)}a`,
    pathOfBytes(4096),
  ];

  it.each(accepted)('accepts %j', (path) => {
    expect(validatePath(path)).toEqual({ ok: true, value: path });
    expect(isCanonicalPath(path)).toBe(true);
  });
});

describe('validatePath: rejected paths with their code', () => {
  // Goal: every rule fires with its own code, so a peer's mistake is diagnosable.
  const rejected: Array<[string, PathErrorCode]> = [
    ['', 'PATH_EMPTY'],
    ['/', 'PATH_ABSOLUTE'],
    ['/etc/passwd', 'PATH_ABSOLUTE'],
    ['//server/share', 'PATH_ABSOLUTE'],
    ['C:x', 'PATH_ABSOLUTE'],
    ['c:/x', 'PATH_ABSOLUTE'],
    ['z:', 'PATH_ABSOLUTE'],
    ['..', 'PATH_TRAVERSAL'],
    ['../x', 'PATH_TRAVERSAL'],
    ['a/../b', 'PATH_TRAVERSAL'],
    ['a/..', 'PATH_TRAVERSAL'],
    ['.', 'PATH_DOT_SEGMENT'],
    ['./a', 'PATH_DOT_SEGMENT'],
    ['a/./b', 'PATH_DOT_SEGMENT'],
    ['a/.', 'PATH_DOT_SEGMENT'],
    ['a\\b', 'PATH_BACKSLASH'],
    ['..\\x', 'PATH_BACKSLASH'],
    ['C:\\x', 'PATH_BACKSLASH'],
    ['a\u0000b', 'PATH_NUL'],
    ['\u0000', 'PATH_NUL'],
    ['a\u0001b', 'PATH_CONTROL_CHAR'],
    ['a\nb', 'PATH_CONTROL_CHAR'],
    ['a\tb', 'PATH_CONTROL_CHAR'],
    ['a\u001fb', 'PATH_CONTROL_CHAR'],
    ['a\u007fb', 'PATH_CONTROL_CHAR'],
    ['a\u009bb', 'PATH_CONTROL_CHAR'],
    ['a\ud800b', 'PATH_INVALID_UNICODE'],
    ['a\udfff', 'PATH_INVALID_UNICODE'],
    ['a//b', 'PATH_EMPTY_SEGMENT'],
    ['a/', 'PATH_EMPTY_SEGMENT'],
    ['a/b/', 'PATH_EMPTY_SEGMENT'],
    ['.sync', 'PATH_STATE_DIR'],
    ['.sync/x', 'PATH_STATE_DIR'],
    ['.sync/tmp/partial', 'PATH_STATE_DIR'],
    ['.SYNC/x', 'PATH_STATE_DIR'],
    ['s'.repeat(256), 'PATH_SEGMENT_TOO_LONG'],
    [`a/${'s'.repeat(256)}/b`, 'PATH_SEGMENT_TOO_LONG'],
    ['é'.repeat(128), 'PATH_SEGMENT_TOO_LONG'],
    ['😀'.repeat(64), 'PATH_SEGMENT_TOO_LONG'],
    [pathOfBytes(4097), 'PATH_TOO_LONG'],
  ];

  it.each(rejected)('rejects %j with %s', (path, code) => {
    const result = validatePath(path);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ name: 'ProtocolError', code });
    expect(result.error.message.startsWith(`${code}: `)).toBe(true);
    expect(isCanonicalPath(path)).toBe(false);
  });

  it('the boundary helpers build what they claim', () => {
    const bytes = (s: string): number => new TextEncoder().encode(s).byteLength;
    expect(bytes(pathOfBytes(4096))).toBe(4096);
    expect(bytes(pathOfBytes(4097))).toBe(4097);
    expect(bytes(`${'é'.repeat(127)}a`)).toBe(255);
    expect(bytes('é'.repeat(128))).toBe(256);
  });
});

describe('validatePath: options', () => {
  // Goal: the state directory and the byte limits are configurable.
  it('uses a custom state directory name instead of .sync', () => {
    const options = { stateDirName: '.state' };
    expect(codeOf('.state', options)).toBe('PATH_STATE_DIR');
    expect(codeOf('.state/index', options)).toBe('PATH_STATE_DIR');
    expect(codeOf('.sync/index', options)).toBe('ok');
    expect(codeOf('a/.state', options)).toBe('ok');
    expect(defaultStateDirName).toBe('.sync');
  });

  it('applies custom byte limits', () => {
    expect(codeOf('abcd', { segmentBytesMax: 3 })).toBe('PATH_SEGMENT_TOO_LONG');
    expect(codeOf('abc/d', { segmentBytesMax: 3 })).toBe('ok');
    expect(codeOf('a/b/c', { pathBytesMax: 4 })).toBe('PATH_TOO_LONG');
    expect(codeOf('a/bc', { pathBytesMax: 4 })).toBe('ok');
  });
});

describe('validatePath: Unicode normalisation', () => {
  // Goal: one name has one wire form (NFC), whatever form the local filesystem reported.
  const nfd = 'cafe\u0301/re\u0301sume\u0301.txt';
  const nfc = 'caf\u00e9/r\u00e9sum\u00e9.txt';

  it('returns the NFC form of an NFD path', () => {
    expect(nfd).not.toBe(nfc);
    expect(validatePath(nfd)).toEqual({ ok: true, value: nfc });
  });

  it('isCanonicalPath is false for NFD and true for NFC', () => {
    expect(isCanonicalPath(nfd)).toBe(false);
    expect(isCanonicalPath(nfc)).toBe(true);
  });

  it('measures segment length after normalisation', () => {
    // 128 × "é" is 384 bytes in NFD (e + U+0301) but 256 in NFC; 127 of them plus "a" is 255 in NFC.
    expect(codeOf(`${'e\u0301'.repeat(127)}a`)).toBe('ok');
    expect(codeOf('e\u0301'.repeat(128))).toBe('PATH_SEGMENT_TOO_LONG');
  });
});

describe('validatePath: properties', () => {
  // Goal: whatever a peer sends, an accepted path stays inside the folder.
  const pieces = ['a', 'b.txt', '.', '..', '', '.sync', '\\', '\u0000', '\n', 'C:', 'e\u0301', '😀', '\ud800', ' '];
  const pathLike = fc
    .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 4 })), {
      maxLength: 6,
    })
    .chain((segments) => fc.constantFrom(segments.join('/'), `/${segments.join('/')}`, segments.join('')));
  const anyPath = fc.oneof(fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ maxLength: 64 }), pathLike);

  it('an accepted path has no empty, . or .. segment and is relative', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        const result = validatePath(path);
        if (!result.ok) return;
        const segments = result.value.split('/');
        expect(result.value.startsWith('/')).toBe(false);
        for (const bad of ['', '.', '..']) expect(segments).not.toContain(bad);
        expect(segments[0]).not.toBe(defaultStateDirName);
        // eslint-disable-next-line no-control-regex
        expect(result.value).not.toMatch(/[\\\u0000-\u001f\u007f]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('an accepted path is NFC and validates to itself (idempotent)', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        const result = validatePath(path);
        if (!result.ok) return;
        expect(result.value).toBe(result.value.normalize('NFC'));
        expect(validatePath(result.value)).toEqual({ ok: true, value: result.value });
        expect(isCanonicalPath(result.value)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
