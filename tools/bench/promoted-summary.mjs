#!/usr/bin/env node
// Summarises a promoted-sample.mjs profile: MB by allocating function, then by its last frames.
//   node tools/bench/promoted-summary.mjs /tmp/p/n1.json [top=30]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/bench/promoted-summary.mjs PROFILE.json [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const byFunction = new Map();
const byStack = new Map();
let total = 0;
const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);

function walk(node, stack) {
  const { functionName, url, lineNumber } = node.callFrame;
  const frames = [...stack, `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}`];
  if (node.selfSize > 0) {
    total += node.selfSize;
    add(byFunction, frames.at(-1), node.selfSize);
    add(byStack, frames.slice(-4).join(' > '), node.selfSize);
  }
  for (const child of node.children) walk(child, frames);
}
walk(JSON.parse(readFileSync(file, 'utf8')).head, []);

const print = (map) => {
  for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(bytes / 1e6).toFixed(1).padStart(7)} MB  ${key}`);
};
console.log(`total ${(total / 1e6).toFixed(1)} MB sampled`);
print(byFunction);
console.log('by the last four frames:');
print(byStack);
