#!/usr/bin/env node
// Heap held by COUNT one-block file records, standalone, in three layouts: `objects`, as the engine
// kept them until 950203d (an object per record with its block list and disk fingerprint, in a Map
// by path); `stored`, as it keeps them since (core's StoredRecord: the fingerprint as fields, no
// list for a one-block file); `packed`, as sketched in BENCHMARKS.md (a Map from path to slot,
// fixed fields in typed arrays, hashes as 32 bytes). Paths are made before the baseline, so every
// layout counts everything else.
//   node --expose-gc tools/bench/record-layout.mjs objects|stored|packed [COUNT=100000]
import { createHash } from 'node:crypto';

const [layout = 'objects', countArg = '100000'] = process.argv.slice(2);
const count = Number(countArg);
if (typeof globalThis.gc !== 'function' || !['objects', 'stored', 'packed'].includes(layout) || !(count > 0)) {
  console.error('usage: node --expose-gc tools/bench/record-layout.mjs objects|stored|packed [COUNT]');
  process.exit(2);
}
const hexHash = (i, salt) => createHash('sha256').update(`${salt}${i}`).digest('hex');
const paths = Array.from({ length: count }, (_, i) => `d${Math.floor(i / 100)}/f${i % 100}.bin`);
const version = { n0: 1 };

function asObjects() {
  const index = new Map();
  for (let i = 0; i < count; i++) {
    const mtimeMs = 1764250000123.456 + i;
    // A one-block file's block hash is its hash, and the engine held one string for both.
    const hash = hexHash(i, 'file');
    index.set(paths[i], {
      path: paths[i], type: 'file', size: 1024, mtimeMs, mode: 0o644,
      hash, blocks: [{ offset: 0, size: 1024, hash }],
      target: undefined, deleted: false, version, modifiedBy: 'n0', sequence: i + 1,
      disk: { size: 1024, mtimeMs, ino: 1_000_000 + i },
    });
  }
  return index;
}

// The fields of core's StoredRecord, in its order (packages/core/src/record.ts).
class Stored {
  constructor(path, size, mtimeMs, hash, sequence, ino) {
    this.path = path;
    this.type = 'file';
    this.size = size;
    this.mtimeMs = mtimeMs;
    this.mode = 0o644;
    this.hash = hash;
    this.ownBlocks = null;
    this.target = undefined;
    this.deleted = false;
    this.version = version;
    this.modifiedBy = 'n0';
    this.sequence = sequence;
    this.diskSize = size;
    this.diskMtimeMs = undefined;
    this.diskIno = ino;
  }
}

function asStored() {
  const index = new Map();
  for (let i = 0; i < count; i++) index.set(paths[i], new Stored(paths[i], 1024, 1764250000123.456 + i, hexHash(i, 'file'), i + 1, 1_000_000 + i));
  return index;
}

function packed() {
  const store = {
    slots: new Map(), sizes: new Float64Array(count), mtimes: new Float64Array(count), inodes: new Float64Array(count),
    sequences: new Float64Array(count), modes: new Uint32Array(count), kinds: new Uint8Array(count),
    fileHashes: Buffer.alloc(count * 32), blockHashes: Buffer.alloc(count * 32), versions: new Array(count),
  };
  for (let i = 0; i < count; i++) {
    store.slots.set(paths[i], i);
    store.sizes[i] = 1024;
    store.mtimes[i] = 1764250000123.456 + i;
    store.inodes[i] = 1_000_000 + i;
    store.sequences[i] = i + 1;
    store.modes[i] = 0o644;
    store.kinds[i] = 1;
    store.fileHashes.write(hexHash(i, 'file'), i * 32, 32, 'hex');
    store.blockHashes.write(hexHash(i, 'block'), i * 32, 32, 'hex');
    store.versions[i] = version;
  }
  return store;
}

globalThis.gc();
const before = process.memoryUsage();
const kept = layout === 'objects' ? asObjects() : layout === 'stored' ? asStored() : packed();
globalThis.gc();
const after = process.memoryUsage();
const heap = after.heapUsed - before.heapUsed;
const buffers = after.arrayBuffers - before.arrayBuffers;
const held = layout === 'packed' ? kept.slots.size : kept.size;
console.log(`${layout}: ${held} records, heap ${(heap / 1e6).toFixed(1)} MB, outside it ${(buffers / 1e6).toFixed(1)} MB: ${Math.round((heap + buffers) / held)} B per record`);
