#!/usr/bin/env node
// Summarises V8 .cpuprofile files (from BENCH_NODE_ARGS=--cpu-prof): self time per function.
//   node tools/bench/profile-summary.mjs FILE.cpuprofile [top=30]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/bench/profile-summary.mjs FILE.cpuprofile [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + (deltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30));
console.log(`total ${(total / 1e6).toFixed(2)} s sampled`);
for (const [key, us] of rows) console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);

// With a third argument, the call paths (callers) that spent the most self time in that function.
const focus = process.argv[4];
if (focus) {
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stacks = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    let node = byId.get(profile.samples[i]);
    if (node.callFrame.functionName !== focus) continue;
    const chain = [];
    for (let id = parent.get(node.id); id !== undefined && chain.length < 8; id = parent.get(id)) {
      const frame = byId.get(id).callFrame;
      chain.push(`${frame.functionName || '(anon)'}:${frame.lineNumber + 1}`);
    }
    const key = chain.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + (deltas[i] ?? 0));
  }
  console.log(`\ncallers of ${focus}:`);
  for (const [key, us] of [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms  ${key}`);
}
