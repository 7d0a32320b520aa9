#!/usr/bin/env node
// Heap held by COUNT one-block file records, standalone: as the engine keeps them (an object per
// record with its block list, disk fingerprint and hex hash strings, in a Map by path) against the
// packed layout sketched in BENCHMARKS.md (a Map from path to slot, fixed fields in typed arrays,
// hashes as 32 bytes). Paths are made before the baseline, so both layouts count everything else.
//   node --expose-gc tools/bench/record-layout.mjs objects|packed [COUNT=100000]
import { createHash } from 'node:crypto';

const [layout = 'objects', countArg = '100000'] = process.argv.slice(2);
const count = Number(countArg);
if (typeof globalThis.gc !== 'function' || !['objects', 'packed'].includes(layout) || !(count > 0)) {
  console.error('usage: node --expose-gc tools/bench/record-layout.mjs objects|packed [COUNT]');
  process.exit(2);
}
const hexHash = (i, salt) => createHash('sha256').update(`${salt}${i}`).digest('hex');
const paths = Array.from({ length: count }, (_, i) => `d${Math.floor(i / 100)}/f${i % 100}.bin`);
const version = { n0: 1 };

function asObjects() {
  const index = new Map();
  for (let i = 0; i < count; i++) {
    const mtimeMs = 1764250000123.456 + i;
    index.set(paths[i], {
      path: paths[i], type: 'file', size: 1024, mtimeMs, mode: 0o644,
      hash: hexHash(i, 'file'), blocks: [{ offset: 0, size: 1024, hash: hexHash(i, 'block') }],
      target: undefined, deleted: false, version, modifiedBy: 'n0', sequence: i + 1,
      disk: { size: 1024, mtimeMs, ino: 1_000_000 + i },
    });
  }
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
const kept = layout === 'objects' ? asObjects() : packed();
globalThis.gc();
const after = process.memoryUsage();
const heap = after.heapUsed - before.heapUsed;
const buffers = after.arrayBuffers - before.arrayBuffers;
const held = layout === 'objects' ? kept.size : kept.slots.size;
console.log(`${layout}: ${held} records, heap ${(heap / 1e6).toFixed(1)} MB, outside it ${(buffers / 1e6).toFixed(1)} MB: ${Math.round((heap + buffers) / held)} B per record`);
