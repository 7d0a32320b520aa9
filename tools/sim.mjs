#!/usr/bin/env node
// Runs the deterministic simulator of @sync/core (packages/core/src/testing/simulator.ts) through
// vitest, which already resolves the workspace's TypeScript sources: no build, no new dependency.
//
//   npm run sim -- --seeds 1000             seeds 1..1000 (--first F to start elsewhere)
//   npm run sim -- --seed 42                one seed, printing its trace
//   npm run sim -- --seed 42 --steps 0,3,9  replay only those plan steps (a minimised trace)
//   --length N   steps per plan (default 40, as in the test suite)
//   --verbose    also trace what the engines do (syncs, conflicts, local changes)
//   --symlinks   plans in which users also make and retarget symlinks (other plans than without)
//   --rescan MS  every node also walks its whole folder every MS simulated ms (the periodic rescan)
//   --minimize-ms MS   time spent minimising a failing seed (default 30000, 0 = off)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = 'usage: npm run sim -- [--seeds N [--first F] | --seed S [--steps i,j,k]] [--length N] [--symlinks] [--rescan MS] [--verbose] [--minimize-ms MS]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      first: { type: 'string' },
      steps: { type: 'string' },
      length: { type: 'string' },
      verbose: { type: 'boolean' },
      symlinks: { type: 'boolean' },
      rescan: { type: 'string' },
      'minimize-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}

if (values.help) {
  console.log(usage);
  process.exit(0);
}

const integer = (name, value) => {
  if (!/^\d+$/.test(value)) {
    console.error(`--${name} wants a non-negative integer, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return value;
};

const env = { ...process.env, SIM_STEPS: integer('length', values.length ?? '40') };
if (values.seed !== undefined) env.SIM_SEED = integer('seed', values.seed);
else env.SIM_SEEDS = integer('seeds', values.seeds ?? '200');
if (values.first !== undefined) env.SIM_FIRST = integer('first', values.first);
if (values.steps !== undefined) {
  if (!/^\d+(,\d+)*$/.test(values.steps)) {
    console.error('--steps wants a comma-separated list of step indices, e.g. 0,3,9');
    process.exit(2);
  }
  env.SIM_ONLY = values.steps;
}
if (values.verbose) env.SIM_VERBOSE = '1';
if (values.symlinks) env.SIM_SYMLINKS = '1';
if (values.rescan !== undefined) env.SIM_RESCAN_MS = integer('rescan', values.rescan);
if (values['minimize-ms'] !== undefined) env.SIM_MINIMIZE_MS = integer('minimize-ms', values['minimize-ms']);

const core = fileURLToPath(new URL('../packages/core/', import.meta.url));
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', 'test/simulation.test.ts', '--reporter=dot'], { cwd: core, env, stdio: 'inherit' });
console.log(`sim: ${values.seed !== undefined ? `seed ${values.seed}` : `${env.SIM_SEEDS} seeds from ${env.SIM_FIRST ?? 1}`}, ${env.SIM_STEPS} steps each, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(result.status ?? 1);
