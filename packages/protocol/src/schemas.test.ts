import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultLimits, KiB, MiB } from './limits';
import {
  AuthSchema,
  FileRecordSchema,
  HelloSchema,
  NodeIdSchema,
  PROTOCOL_VERSION,
  Sha256HexSchema,
  VersionVectorSchema,
  WirePathSchema,
  authPayload,
} from './schemas';
import type { BlockInfo, FileRecord } from './schemas';
import { dirFixture, recordFixture, tombstoneFixture } from './testing';

const accepts = (record: unknown): boolean => FileRecordSchema.safeParse(record).success;
const block = (offset: number, size: number): BlockInfo => ({ offset, size, hash: 'c'.repeat(64) });

describe('FileRecordSchema: block tiling', () => {
  // Goal: blocks must tile a live file exactly at blockSizeFor(size), so a peer cannot make us mis-assemble it.
  const size = 2 * 128 * KiB + 10;
  const live = (blocks: BlockInfo[], overrides: Partial<FileRecord> = {}): FileRecord =>
    recordFixture({ size, blocks, ...overrides });

  it('accepts a valid tiling, an exact multiple and an empty file', () => {
    expect(accepts(live([block(0, 128 * KiB), block(128 * KiB, 128 * KiB), block(256 * KiB, 10)]))).toBe(true);
    expect(accepts(recordFixture({ size: 256 * KiB, blocks: [block(0, 128 * KiB), block(128 * KiB, 128 * KiB)] }))).toBe(true);
    expect(accepts(recordFixture({ size: 0, blocks: [] }))).toBe(true);
    expect(accepts(recordFixture({ size: 1, blocks: [block(0, 1)] }))).toBe(true);
  });

  it('uses the larger block size of a large file', () => {
    const bigSize = 256 * MiB + 1; // blockSizeFor → 256 KiB
    const blocks = Array.from({ length: 1024 }, (_, i) => block(i * 256 * KiB, 256 * KiB));
    expect(accepts(recordFixture({ size: bigSize, blocks: [...blocks, block(256 * MiB, 1)] }))).toBe(true);
    const smallBlocks = Array.from({ length: 2048 }, (_, i) => block(i * 128 * KiB, 128 * KiB));
    expect(accepts(recordFixture({ size: bigSize, blocks: [...smallBlocks, block(256 * MiB, 1)] }))).toBe(false);
  });

  it.each([
    ['a gap between blocks', [block(0, 128 * KiB), block(128 * KiB + 1, 128 * KiB), block(256 * KiB + 1, 9)]],
    ['an overlap', [block(0, 128 * KiB), block(128 * KiB - 1, 128 * KiB), block(256 * KiB - 1, 11)]],
    ['a first block not at 0', [block(1, 128 * KiB), block(128 * KiB + 1, 128 * KiB), block(256 * KiB + 1, 9)]],
    ['a short middle block', [block(0, 128 * KiB), block(128 * KiB, 100), block(128 * KiB + 100, 128 * KiB - 90)]],
    ['a last block larger than the block size', [block(0, 128 * KiB), block(128 * KiB, 128 * KiB + 10)]],
    ['an empty last block', [block(0, 128 * KiB), block(128 * KiB, 128 * KiB), block(256 * KiB, 10), block(256 * KiB + 10, 0)]],
    ['blocks that sum to less than the size', [block(0, 128 * KiB), block(128 * KiB, 128 * KiB)]],
    ['blocks that sum to more than the size', [block(0, 128 * KiB), block(128 * KiB, 128 * KiB), block(256 * KiB, 11)]],
    ['no blocks for a non-empty file', []],
  ])('rejects %s', (_what, blocks) => {
    expect(accepts(live(blocks))).toBe(false);
  });

  it('rejects blocks on a directory, a symlink and a tombstone', () => {
    const blocks = [block(0, 10)];
    expect(accepts(dirFixture('d', { size: 10, blocks }))).toBe(false);
    expect(accepts(recordFixture({ type: 'symlink', target: 'x', size: 10, hash: '', blocks }))).toBe(false);
    expect(accepts(tombstoneFixture('t', { size: 10, blocks }))).toBe(false);
  });

  it('rejects a live file without a hash and a live symlink without a target', () => {
    expect(accepts(recordFixture({ hash: '' }))).toBe(false);
    expect(accepts(recordFixture({ type: 'symlink', size: 0, hash: '', blocks: [] }))).toBe(false);
    expect(accepts(recordFixture({ type: 'symlink', size: 0, hash: '', blocks: [], target: '../elsewhere' }))).toBe(true);
    expect(accepts(tombstoneFixture('link', { type: 'symlink' }))).toBe(true);
  });

  it('rejects a symlink target over symlinkTargetBytesMax', () => {
    const symlink = (target: string): FileRecord => recordFixture({ type: 'symlink', size: 0, hash: '', blocks: [], target });
    expect(accepts(symlink('t'.repeat(defaultLimits.symlinkTargetBytesMax)))).toBe(true);
    expect(accepts(symlink('t'.repeat(defaultLimits.symlinkTargetBytesMax + 1)))).toBe(false);
  });
});

describe('FileRecordSchema: fields', () => {
  // Goal: each field's rule, one line each.
  it.each([
    ['a bad modifiedBy', { modifiedBy: 'bad id!' }],
    ['an empty modifiedBy', { modifiedBy: '' }],
    ['a bad node id in the version', { version: { 'no spaces': 1 } }],
    ['a negative counter', { version: { n1: -1 } }],
    ['a fractional counter', { version: { n1: 1.5 } }],
    ['an uppercase hash', { hash: 'A'.repeat(64) }],
    ['a 63-digit hash', { hash: 'a'.repeat(63) }],
    ['a non-hex hash', { hash: 'g'.repeat(64) }],
    ['a bad block hash', { size: 1, blocks: [{ offset: 0, size: 1, hash: 'x' }] }],
    ['an unknown type', { type: 'fifo' }],
    ['a negative size', { size: -1, blocks: [] }],
    ['mode above 0o7777', { mode: 0o10000 }],
    ['a negative sequence', { sequence: -1 }],
    ['an infinite mtime', { mtimeMs: Number.POSITIVE_INFINITY }],
    ['a hostile path', { path: '../x' }],
    ['an NFD path', { path: 'cafe\u0301' }],
  ] as Array<[string, Partial<Record<keyof FileRecord, unknown>>]>)('rejects %s', (_what, overrides) => {
    expect(accepts({ ...recordFixture(), ...overrides })).toBe(false);
  });

  it('rejects a record with a field missing', () => {
    for (const key of ['path', 'type', 'size', 'mtimeMs', 'mode', 'hash', 'blocks', 'deleted', 'version', 'modifiedBy', 'sequence']) {
      const record: Record<string, unknown> = { ...recordFixture() };
      delete record[key];
      expect(accepts(record), key).toBe(false);
    }
  });
});

describe('NodeIdSchema and Sha256HexSchema', () => {
  // Goal: the identifier formats of DESIGN.md, exactly.
  it.each(['a', 'node-1', 'Node_2', 'x'.repeat(64), '__proto__', 'constructor'])('node id %j is valid', (id) => {
    expect(NodeIdSchema.safeParse(id).success).toBe(true);
  });

  it.each(['', 'x'.repeat(65), 'a b', 'a.b', 'a/b', 'é', 'a\n'])('node id %j is invalid', (id) => {
    expect(NodeIdSchema.safeParse(id).success).toBe(false);
  });

  it('hello rejects a bad node id', () => {
    const hello = { type: 'hello', protocol: PROTOCOL_VERSION, nodeId: 'node-a', nonce: 'n'.repeat(22), software: 's' };
    expect(HelloSchema.safeParse(hello).success).toBe(true);
    expect(HelloSchema.safeParse({ ...hello, nodeId: 'bad id' }).success).toBe(false);
  });

  it('a SHA-256 is 64 lowercase hex digits', () => {
    expect(Sha256HexSchema.safeParse('0123456789abcdef'.repeat(4)).success).toBe(true);
    for (const bad of ['', 'a'.repeat(65), 'ABCDEF'.padEnd(64, '0'), ` ${'a'.repeat(63)}`]) {
      expect(Sha256HexSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(AuthSchema.safeParse({ type: 'auth', proof: 'a'.repeat(64) }).success).toBe(true);
    expect(AuthSchema.safeParse({ type: 'auth', proof: 'a'.repeat(32) }).success).toBe(false);
  });
});

describe('VersionVectorSchema', () => {
  // Goal: a vector survives decoding entry for entry, whatever the node ids are called.
  it('keeps entries named like Object.prototype members, __proto__ included', () => {
    const parsed = VersionVectorSchema.safeParse(JSON.parse('{"__proto__": 5, "constructor": 2, "n1": 1}'));
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    expect(Object.hasOwn(parsed.data, '__proto__')).toBe(true);
    expect(Object.entries(parsed.data)).toEqual([
      ['__proto__', 5],
      ['constructor', 2],
      ['n1', 1],
    ]);
    expect(Object.getPrototypeOf(parsed.data)).toBe(Object.prototype);
  });

  it('rejects non-objects and more than vectorEntriesMax entries', () => {
    for (const bad of [null, 1, 'v', [], [['n1', 1]]]) expect(VersionVectorSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    const entries = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`n${i}`, i]));
    expect(VersionVectorSchema.safeParse(entries(defaultLimits.vectorEntriesMax)).success).toBe(true);
    expect(VersionVectorSchema.safeParse(entries(defaultLimits.vectorEntriesMax + 1)).success).toBe(false);
  });

  it('round-trips any valid vector (property)', () => {
    const vector = fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.nat(), { maxKeys: 20 });
    fc.assert(
      fc.property(vector, (v) => {
        expect(VersionVectorSchema.parse(JSON.parse(JSON.stringify(v)))).toEqual(v);
      }),
    );
  });
});

describe('WirePathSchema', () => {
  // Goal: the wire accepts only canonical paths and reports the path rule's code in the issue.
  it('accepts canonical paths and reports codes through params.protocolCode', () => {
    expect(WirePathSchema.safeParse('a/b').success).toBe(true);
    for (const [path, code] of [
      ['../x', 'PATH_TRAVERSAL'],
      ['cafe\u0301', 'PATH_NOT_NORMALIZED'],
    ]) {
      const parsed = WirePathSchema.safeParse(path);
      expect(parsed.success).toBe(false);
      if (parsed.success) continue;
      expect(parsed.error.issues[0]).toMatchObject({ code: 'custom', params: { protocolCode: code } });
    }
  });
});

describe('authPayload', () => {
  // Goal: the signed text binds the proof to this nonce and this ordered pair of nodes.
  const base = ['nonce-AAAAAAAAAAAAAAAAAAAA', 'node-a', 'node-b'] as const;

  it('is deterministic and names the protocol version', () => {
    expect(authPayload(...base)).toBe(authPayload(...base));
    expect(authPayload(...base)).toContain(`v${PROTOCOL_VERSION}`);
  });

  it('differs when any argument differs', () => {
    const payload = authPayload(...base);
    expect(authPayload('nonce-BBBBBBBBBBBBBBBBBBBB', base[1], base[2])).not.toBe(payload);
    expect(authPayload(base[0], 'node-c', base[2])).not.toBe(payload);
    expect(authPayload(base[0], base[1], 'node-c')).not.toBe(payload);
    // Swapping prover and verifier must not reuse a proof in the other direction.
    expect(authPayload(base[0], base[2], base[1])).not.toBe(payload);
  });

  it('is injective over valid nonces and node ids (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/);
    const args = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{22,30}$/), id, id);
    fc.assert(
      fc.property(args, args, (a, b) => {
        const same = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
        expect(authPayload(...a) === authPayload(...b)).toBe(same);
      }),
    );
  });
});
