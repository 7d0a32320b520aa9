#!/usr/bin/env node
// Benchmarks of the sync daemon side by side with rsync and Syncthing. See BENCHMARKS.md.
//
//   npm run bench -- [scenario...] [--runs N] [--quick] [--rivals a,b] [--tmp DIR] [--keep] [--build]
//
// Scenarios: latency big small delta rename scale idle (default: all). Each run starts fresh
// daemons in a fresh directory under --tmp (default /var/tmp), removed after each scenario.
// Figures are the median over --runs (default 3); ratios compare with rivals of the same run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GiB, MiB, freeBytes, removeDir, tempDir, writeRandomFile } from './lib/files.mjs';
import { oursSystem } from './systems/ours.mjs';
import { rsyncSystem } from './systems/rsync.mjs';
import { syncthingSystem } from './systems/syncthing.mjs';
import { latency } from './scenarios/latency.mjs';
import { big } from './scenarios/big.mjs';
import { small } from './scenarios/small.mjs';
import { delta } from './scenarios/delta.mjs';
import { rename } from './scenarios/rename.mjs';
import { scale } from './scenarios/scale.mjs';
import { idle } from './scenarios/idle.mjs';
import { deleteTree } from './scenarios/delete.mjs';
import { report } from './report.mjs';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// BENCH_MAIN_JS runs another build of the daemon (an old commit's bundle, for an A/B comparison).
const builtMainJs = join(repoRoot, 'apps', 'node', 'dist', 'main.js');
const mainJs = process.env.BENCH_MAIN_JS ? resolve(process.env.BENCH_MAIN_JS) : builtMainJs;
// BENCH_NODE runs our daemons under another Node binary (the image's Node 24, say); rivals and the
// suite itself are unaffected.
const daemonNode = process.env.BENCH_NODE ? resolve(process.env.BENCH_NODE) : process.execPath;
const scenarios = { latency, big, small, delta, rename, scale, idle, delete: deleteTree };

function parseArgs(argv) {
  const options = { scenarios: [], runs: 3, quick: false, rivals: null, tmpBase: '/var/tmp', keep: false, build: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) usage(`${arg} needs a value`);
      return next;
    };
    if (arg === '--runs') options.runs = Number(value());
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--rivals') options.rivals = value().split(',').filter(Boolean);
    else if (arg === '--tmp') options.tmpBase = value();
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--build') options.build = true;
    else if (arg === '--help' || arg === '-h') usage();
    else if (scenarios[arg]) options.scenarios.push(arg);
    else usage(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) usage('--runs must be a positive integer');
  if (options.scenarios.length === 0) options.scenarios = Object.keys(scenarios);
  return options;
}

function usage(problem) {
  if (problem) console.error(`bench: ${problem}`);
  console.error(`usage: npm run bench -- [${Object.keys(scenarios).join('|')}...] [--runs N] [--quick] [--rivals rsync,rsync-fsync,syncthing,syncthing-1s,none] [--tmp DIR] [--keep] [--build]`);
  process.exit(problem ? 2 : 0);
}

function log(message) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function ensureTools(names) {
  const missing = names.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} from Debian's packages`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const steps = [[...sudo, 'apt-get', 'update'], [...sudo, 'apt-get', 'install', '-y', ...missing]];
  for (const step of steps) {
    const result = spawnSync(step[0], step.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) throw new Error(`${step.join(' ')} failed; install ${missing.join(' ')} yourself`);
  }
}

function ensureBuild(force) {
  if (mainJs !== builtMainJs || (!force && spawnSync('test', ['-f', mainJs]).status === 0)) return;
  log('building apps/node (npx tsup)');
  const result = spawnSync('npx', ['tsup'], { cwd: join(repoRoot, 'apps', 'node'), stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error('building apps/node failed');
}

/**
 * Another build's bundle (BENCH_MAIN_JS), copied beside a package.json saying it is an ES
 * module, as apps/node/dist/main.js is. Without one, Node parses the bundle as CommonJS first and
 * then again as ESM, and each daemon carries ~6 MiB more RSS (57 against 63 MiB idle on Node 20):
 * an A/B comparison of memory would favour the build in apps/node/dist.
 */
function moduleCopy(bundle, dir) {
  const copy = join(dir, 'main.js');
  copyFileSync(bundle, copy);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return copy;
}

function version(command, args, pattern) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${result.stdout}${result.stderr}`)?.[1] ?? null;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const bundleDir = mainJs === builtMainJs ? null : tempDir(options.tmpBase, 'sync-bench-main');
  const systems = {
    ours: oursSystem(bundleDir ? moduleCopy(mainJs, bundleDir) : mainJs, daemonNode),
    rsync: rsyncSystem({ fsync: false }),
    'rsync-fsync': rsyncSystem({ fsync: true }),
    syncthing: syncthingSystem({ watcherDelayS: 10 }),
    'syncthing-1s': syncthingSystem({ watcherDelayS: 1 }),
  };
  const rivalsWanted = (name) => options.rivals === null || options.rivals.includes(name);
  const tools = [];
  if (Object.keys(systems).some((name) => name.startsWith('rsync') && rivalsWanted(name))) tools.push('rsync');
  if (Object.keys(systems).some((name) => name.startsWith('syncthing') && rivalsWanted(name))) tools.push('syncthing');
  ensureTools(tools);
  ensureBuild(options.build);

  const bigSize = options.quick ? 256 * MiB : GiB;
  const needBytes = bigSize * 6 + 2 * GiB;
  // `--tmp` may name a directory not made yet; statfs needs it to exist.
  mkdirSync(options.tmpBase, { recursive: true });
  const free = freeBytes(options.tmpBase);
  if (free < needBytes) throw new Error(`${options.tmpBase} has ${Math.round(free / MiB)} MiB free; the suite needs about ${Math.round(needBytes / MiB)} MiB`);

  const payloadDir = tempDir(options.tmpBase, 'sync-bench-payload');
  let bigPayload = null;
  const env = {
    quick: options.quick,
    tmpBase: options.tmpBase,
    keep: options.keep,
    log,
    scenario: '',
    async bigPayload() {
      if (!bigPayload) {
        log(`writing a ${bigSize / MiB} MiB random payload`);
        const path = join(payloadDir, 'big.bin');
        bigPayload = { path, size: bigSize, hash: writeRandomFile(path, bigSize) };
      }
      return bigPayload;
    },
  };

  const started = new Date();
  const results = {};
  const outDir = join(repoRoot, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const partialFile = join(outDir, `bench-${stamp}.partial.json`);
  const cleanup = () => {
    removeDir(payloadDir);
    if (bundleDir) removeDir(bundleDir);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    for (let run = 1; run <= options.runs; run++) {
      for (const name of options.scenarios) {
        const scenario = scenarios[name];
        env.scenario = name;
        const lineup = ['ours', ...scenario.rivals.filter(rivalsWanted)];
        // Alternate the order between runs so drift on the shared machine does not favour one side.
        if (run % 2 === 0) lineup.reverse();
        for (const systemName of lineup) {
          log(`run ${run}/${options.runs} ${name} ${systemName}`);
          const scenarioT0 = performance.now();
          let outcome;
          try {
            outcome = await scenario.run(env, systems[systemName]);
          } catch (error) {
            log(`  failed: ${error.stack ?? error}`);
            outcome = { error: String(error.message ?? error), metrics: {}, daemons: [] };
          }
          log(`  ${JSON.stringify(outcome.metrics)} (${((performance.now() - scenarioT0) / 1000).toFixed(1)} s)`);
          ((results[name] ??= {})[systemName] ??= []).push(outcome);
          // Partial results survive an interrupted suite.
          writeFileSync(partialFile, `${JSON.stringify({ date: started.toISOString(), options, results }, null, 2)}\n`);
        }
      }
    }
  } finally {
    cleanup();
  }

  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    memGiB: Math.round(totalmem() / GiB),
    node: process.version,
    daemonNode: version(daemonNode, ['--version'], /(v\S+)/),
    rsync: version('rsync', ['--version'], /version\s+(\S+)/),
    syncthing: version('syncthing', ['--version'], /syncthing (v\S+)/),
  };
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const summary = report(results, { quick: options.quick, runs: options.runs });
  console.log(summary.text);
  const outFile = join(outDir, `bench-${stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify({ date: started.toISOString(), command, options, machine, summary: summary.data, results }, null, 2)}\n`);
  writeFileSync(join(outDir, `bench-${stamp}.md`), `${summary.markdown}\n`);
  rmSync(partialFile, { force: true });
  log(`wrote ${outFile} (and .md)`);
}

main().catch((error) => {
  console.error(error.stack ?? error);
  process.exit(1);
});
