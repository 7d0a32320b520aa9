// What a local index's records would weigh packed, by hand (not a bench scenario). N records of a
// one-block file are held either as the engine holds them (one literal each, a block list, a disk
// fingerprint, a hex hash) or packed (a path -> slot map, numbers in typed columns, hashes as 32
// bytes, one-block lists implied). Prints the live bytes per record after a full collection.
//   node --expose-gc tools/bench/packed-records.mjs objects|packed [N]
import { createHash } from 'node:crypto';

const [mode, countArg] = process.argv.slice(2);
if ((mode !== 'objects' && mode !== 'packed') || typeof globalThis.gc !== 'function') {
  throw new Error('usage: node --expose-gc tools/bench/packed-records.mjs objects|packed [N]');
}
const count = Number(countArg ?? 100_000);
const hashOf = (i) => createHash('sha256').update(String(i)).digest('hex');
const pathOf = (i) => `d${Math.floor(i / 100)}/f${i % 100}.bin`;
const mtimeOf = (i) => 1_764_000_000_000 + i + 0.123456;
const version = { n0: 1 };

function asObjects() {
  const records = new Map();
  for (let i = 0; i < count; i++) {
    const path = pathOf(i);
    const hash = hashOf(i);
    const mtimeMs = mtimeOf(i);
    records.set(path, {
      path, type: 'file', size: 1024, mtimeMs, mode: 0o644, hash, blocks: [{ offset: 0, size: 1024, hash }],
      target: undefined, deleted: undefined, version, modifiedBy: 'n0', sequence: i + 1,
      disk: { size: 1024, mtimeMs, ino: 1_000_000 + i },
    });
  }
  return records;
}

function packed() {
  const columns = {
    slots: new Map(),
    size: new Float64Array(count),
    mtimeMs: new Float64Array(count),
    sequence: new Float64Array(count),
    diskMtimeMs: new Float64Array(count),
    ino: new Float64Array(count),
    modeAndType: new Uint32Array(count),
    versionId: new Uint32Array(count),
    hashes: new Uint8Array(count * 32),
  };
  for (let i = 0; i < count; i++) {
    columns.slots.set(pathOf(i), i);
    columns.size[i] = 1024;
    columns.mtimeMs[i] = columns.diskMtimeMs[i] = mtimeOf(i);
    columns.sequence[i] = i + 1;
    columns.ino[i] = 1_000_000 + i;
    columns.modeAndType[i] = 0o644;
    columns.hashes.set(Buffer.from(hashOf(i), 'hex'), i * 32);
  }
  return columns;
}

globalThis.gc();
const before = process.memoryUsage();
const held = mode === 'objects' ? asObjects() : packed();
globalThis.gc();
const after = process.memoryUsage();
const heap = (after.heapUsed - before.heapUsed) / count;
const offHeap = Math.max(0, after.arrayBuffers - before.arrayBuffers) / count;
const total = `${(heap + offHeap).toFixed(0)} B per record`;
console.log(`${mode}, ${count} records (${held instanceof Map ? held.size : held.slots.size} held): heap ${heap.toFixed(0)} B, off-heap ${offHeap.toFixed(0)} B, ${total}`);
