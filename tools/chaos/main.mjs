#!/usr/bin/env node
// Chaos with real processes: sync-node daemons on loopback, a fault-injecting TCP proxy on every
// link, SIGKILL (sometimes SIGTERM) and restart at random moments (also in the middle of large transfers), random
// edits from outside; then heal everything and check the invariants on the real folders.
//
//   npm run chaos -- --minutes 2 --seed 7 [--nodes 3] [--keep]
//
// The schedule comes from the seed; the processes themselves are not deterministic, so a seed
// replays the same actions, not the same interleaving.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaultProxy } from './proxy.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'apps', 'node', 'dist', 'main.js');
const usage = 'usage: npm run chaos -- --minutes N --seed S [--nodes N] [--keep]';
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      minutes: { type: 'string', default: '1' },
      seed: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const seed = Number(args.seed ?? Date.now() % 100000);
const minutes = Number(args.minutes);
const nodeCount = Number(args.nodes);
if (!Number.isFinite(seed) || !(minutes > 0) || !(nodeCount >= 2)) {
  console.error(usage);
  process.exit(2);
}

// mulberry32: small, seeded, good enough to pick actions.
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (items) => items[Math.floor(random() * items.length)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const log = (line) => console.log(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'sync-chaos-'));
const secret = randomBytes(24).toString('hex');
const folders = ['', 'a', 'a/b', 'c'];
const names = ['f0.txt', 'f1.txt', 'f2.bin', 'f3.bin', 'notes.md', 'data.json'];
/** Last user action per path, in the order this harness made them: what must survive. */
const lastAction = new Map();
/** Every content a user ever wrote: a file holding anything else is corrupt. */
const written = new Set([sha256(Buffer.alloc(0))]);
const nodes = [];
const proxies = [];

// Every port the harness uses comes from here, once: a port closed again after the probe is free
// for the kernel to hand out to the next listen(0), and a proxy once got a node's status port.
const portsTaken = new Set();

async function freePort() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port: probed } = server.address();
        server.close(() => resolve(probed));
      });
    });
    if (portsTaken.has(port)) continue;
    portsTaken.add(port);
    return port;
  }
}

function startNode(node) {
  const peers = node.dials.map((proxy) => `ws://127.0.0.1:${proxy.port}`);
  const child = spawn(process.execPath, [main, '--dir', node.dir, '--node-id', node.id, '--listen', `127.0.0.1:${node.listen}`, '--http', `127.0.0.1:${node.http}`, ...peers.flatMap((p) => ['--peer', p])], {
    env: { PATH: process.env.PATH, SYNC_SECRET: secret, SYNC_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = join(work, `${node.id}.log`);
  child.stdout.on('data', (chunk) => appendFileSync(logFile, chunk));
  child.stderr.on('data', (chunk) => appendFileSync(logFile, chunk));
  node.child = child;
  node.up = true;
  child.on('exit', () => (node.up = false));
}

async function status(node) {
  try {
    // Bounded: a request that is never answered must not stall the harness past its own deadlines.
    const response = await fetch(`http://127.0.0.1:${node.http}/status`, { signal: AbortSignal.timeout(5_000) });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function record(path, action) {
  lastAction.set(path, action);
}

function userEdit(node) {
  const folder = pick(folders);
  const path = folder ? `${folder}/${pick(names)}` : pick(names);
  const abs = join(node.dir, path);
  const roll = random();
  try {
    if (roll < 0.45) {
      const big = random() < 0.08;
      const data = big ? randomBytes((4 + Math.floor(random() * 8)) * 1024 * 1024) : randomBytes(Math.floor(random() * 20000));
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, data);
      written.add(sha256(data));
      record(path, { kind: 'write', hash: sha256(data), node: node.id });
      return `${node.id} write ${path} (${data.length} B)`;
    }
    if (!existsSync(abs) || !lstatSync(abs).isFile()) return null;
    if (roll < 0.6) {
      const extra = randomBytes(1 + Math.floor(random() * 3000));
      appendFileSync(abs, extra);
      const data = readFileSync(abs);
      written.add(sha256(data));
      record(path, { kind: 'write', hash: sha256(data), node: node.id });
      return `${node.id} append ${path}`;
    }
    if (roll < 0.75) {
      unlinkSync(abs);
      record(path, { kind: 'delete', node: node.id });
      return `${node.id} delete ${path}`;
    }
    if (roll < 0.88) {
      const to = `${pick(folders) || '.'}/${pick(names)}`.replace(/^\.\//, '');
      if (to === path) return null;
      const data = readFileSync(abs);
      mkdirSync(dirname(join(node.dir, to)), { recursive: true });
      renameSync(abs, join(node.dir, to));
      record(path, { kind: 'delete', node: node.id });
      record(to, { kind: 'write', hash: sha256(data), node: node.id });
      return `${node.id} rename ${path} -> ${to}`;
    }
    if (roll < 0.94) {
      chmodSync(abs, pick([0o600, 0o644, 0o755]));
      return `${node.id} chmod ${path}`;
    }
    // A touch: the same bytes with a new mtime, which every node must take.
    const mtime = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 365 * 86_400_000));
    utimesSync(abs, mtime, mtime);
    return `${node.id} touch ${path} (${mtime.toISOString()})`;
  } catch (error) {
    // The engine may be replacing the same path right now: a user would see the same error.
    return `${node.id} edit of ${path} failed: ${error.code ?? error.message}`;
  }
}

async function chaosStep() {
  const roll = random();
  if (roll < 0.6) return userEdit(pick(nodes));
  if (roll < 0.8) {
    const proxy = pick(proxies);
    const mode = pick(['pass', 'pass', 'delay', 'blackhole', 'cut']);
    proxy.set(mode, mode === 'delay' ? 20 + Math.floor(random() * 300) : 0);
    return `link ${proxy.name} ${mode}${mode === 'delay' ? ` ${proxy.delayMs} ms` : ''}`;
  }
  const node = pick(nodes);
  if (!node.up) {
    startNode(node);
    return `${node.id} restart`;
  }
  // Often right after a large write elsewhere, to land mid-transfer.
  if (random() < 0.5) {
    const other = pick(nodes.filter((n) => n !== node));
    const data = randomBytes(16 * 1024 * 1024);
    const path = `c/big-${Math.floor(random() * 3)}.bin`;
    mkdirSync(join(other.dir, 'c'), { recursive: true });
    writeFileSync(join(other.dir, path), data);
    written.add(sha256(data));
    record(path, { kind: 'write', hash: sha256(data), node: other.id });
    await sleep(50 + Math.floor(random() * 400));
  }
  // Mostly killed; sometimes stopped, which saves its peers' indexes (a later kill leaves those stale).
  const signal = random() < 0.3 ? 'SIGTERM' : 'SIGKILL';
  node.child.kill(signal);
  await new Promise((resolve) => (node.up ? node.child.once('exit', resolve) : resolve()));
  return `${node.id} ${signal}`;
}

// The proxies run in this process: hashing every file on each poll blocked them for seconds, long
// enough for the nodes' heartbeats to drop links the harness itself had stalled. A file whose
// inode, size, mtime and ctime are as last hashed is not read again.
const hashes = new Map();
function hashOf(path, stat) {
  const key = `${stat.ino} ${stat.size} ${stat.mtimeNs} ${stat.ctimeNs}`;
  const known = hashes.get(path);
  if (known?.key === key) return known.hash;
  const hash = sha256(readFileSync(path));
  hashes.set(path, { key, hash });
  return hash;
}

function tree(dir) {
  const entries = {};
  const walk = (abs, rel) => {
    for (const name of readdirSync(abs).sort()) {
      if (!rel && name === '.sync') continue;
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(join(abs, name), { bigint: true });
      if (stat.isDirectory()) {
        entries[path] = `dir ${(stat.mode & 0o777n).toString(8)}`;
        walk(join(abs, name), path);
      } else if (stat.isSymbolicLink()) entries[path] = 'symlink';
      // mtimes to the ms: a peer sets them with utimes, which reads back a few ns off.
      else entries[path] = `file ${hashOf(join(abs, name), stat)} ${(stat.mode & 0o777n).toString(8)} ${stat.mtimeMs}`;
    }
  };
  walk(dir, '');
  return entries;
}

async function converge(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(nodes.map(status));
    for (const [i, s] of statuses.entries()) {
      if (s?.heldDeletes) {
        log(`${nodes[i].id} holds ${s.heldDeletes.count} deletes (${s.heldDeletes.reason}); confirming as a user would`);
        await fetch(`http://127.0.0.1:${nodes[i].http}/confirm-deletes`, { method: 'POST' }).catch(() => {});
      }
    }
    const idle = statuses.every((s) => s && s.state === 'idle' && s.pendingPaths === 0 && s.transfersInFlight === 0 && s.peers.length === nodeCount - 1);
    if (idle) {
      const trees = nodes.map((n) => JSON.stringify(tree(n.dir)));
      if (trees.every((t) => t === trees[0])) return true;
    }
    if (Date.now() > deadline) {
      for (const [i, s] of statuses.entries()) {
        log(`${nodes[i].id}: ${s ? JSON.stringify({ state: s.state, pendingPaths: s.pendingPaths, transfersInFlight: s.transfersInFlight, peers: s.peers.map((p) => p.nodeId), errors: s.errors }) : 'no status'}`);
      }
      return false;
    }
    await sleep(500);
  }
}

function check() {
  const failures = [];
  const trees = nodes.map((n) => tree(n.dir));
  const first = JSON.stringify(trees[0]);
  // 1. identical trees
  trees.forEach((t, i) => {
    if (JSON.stringify(t) === first) return;
    const paths = [...new Set([...Object.keys(t), ...Object.keys(trees[0])])].filter((path) => t[path] !== trees[0][path]);
    const shown = paths.slice(0, 5).map((path) => `${path}: ${t[path] ?? 'absent'} / ${trees[0][path] ?? 'absent'}`);
    failures.push(`invariant 1: ${nodes[i].id}'s tree differs from ${nodes[0].id}'s at ${paths.length} paths: ${shown.join('; ')}`);
  });
  const files = Object.entries(trees[0]).filter(([, v]) => v.startsWith('file '));
  const present = new Set(files.map(([, v]) => v.split(' ')[1]));
  // 2. no lost write: the last write to every path is there, as the file or as a conflict copy
  for (const [path, action] of lastAction) {
    if (action.kind === 'write' && !present.has(action.hash)) failures.push(`invariant 2: the last write to ${path} (by ${action.node}) is nowhere`);
  }
  // 3. nothing corrupt or partial: every file holds content some user wrote
  for (const [path, value] of files) {
    if (!written.has(value.split(' ')[1])) failures.push(`invariant 3: ${path} holds content no user wrote`);
  }
  // 4. nothing outside the folders
  const expected = new Set(nodes.flatMap((n) => [n.id, `${n.id}.log`]));
  for (const name of readdirSync(work)) if (!expected.has(name)) failures.push(`invariant 4: unexpected ${name} next to the folders`);
  return failures;
}

async function quiet() {
  // A status request can fail on its own (a kept-alive connection the node is closing just then):
  // that is no sign of work, so it is asked again.
  const counters = async (node) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await status(node);
      if (s) return [s.sequence, s.filesSynced, s.bytesReceived];
      await sleep(200);
    }
    return null;
  };
  const snapshot = async () => JSON.stringify(await Promise.all(nodes.map(counters)));
  const before = await snapshot();
  await sleep(3000);
  const after = await snapshot();
  if (before !== after) log(`counters moved: ${before} -> ${after}`);
  return before === after;
}

async function run() {
  // Always through Nx, as the demo does: its cache makes an unchanged build instant, and a bundle
  // older than the code is never the one tested.
  const built = spawnSync('npx', ['nx', 'run', '@sync/node:build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
  });
  if (built.status !== 0 || !existsSync(main)) throw new Error('building apps/node failed; see above');
  for (let i = 0; i < nodeCount; i++) {
    const node = { id: `n${i}`, dir: join(work, `n${i}`), listen: await freePort(), http: await freePort(), dials: [], up: false, child: null };
    mkdirSync(node.dir);
    nodes.push(node);
  }
  for (const [i, from] of nodes.entries()) {
    for (const to of nodes.slice(i + 1)) {
      const proxy = new FaultProxy(to.listen);
      proxy.name = `${from.id}->${to.id}`;
      proxy.port = await proxy.listen(await freePort());
      from.dials.push(proxy);
      proxies.push(proxy);
    }
  }
  log(`seed ${seed}, ${nodeCount} nodes, ${minutes} min, folders in ${work}`);
  for (const node of nodes) startNode(node);
  if (!(await converge(60_000))) throw new Error('the cluster did not form');

  let steps = 0;
  const chaosEnds = Date.now() + minutes * 60_000;
  while (Date.now() < chaosEnds) {
    const what = await chaosStep();
    steps++;
    if (what) log(what);
    await sleep(Math.floor(random() * 400));
  }
  log(`${steps} steps done; healing every link and starting every node`);
  for (const proxy of proxies) proxy.set('pass');
  for (const node of nodes) if (!node.up) startNode(node);
  const converged = await converge(180_000);
  const failures = converged ? check() : ['the nodes did not converge within 180 s'];
  if (converged && !(await quiet())) failures.push('invariant 5: nodes kept working after they agreed');
  const fileCount = Object.values(tree(nodes[0].dir)).filter((v) => v.startsWith('file ')).length;
  if (failures.length) {
    for (const failure of failures) log(`FAIL ${failure}`);
    log(`replay the schedule with: npm run chaos -- --minutes ${minutes} --seed ${seed}; logs in ${work}`);
    args.keep = true;
    process.exitCode = 1;
  } else {
    log(`PASS: ${steps} steps, ${fileCount} files identical on ${nodeCount} nodes, ${lastAction.size} paths checked, seed ${seed}`);
  }
}

const shutdown = async () => {
  for (const node of nodes) if (node.up) node.child.kill('SIGTERM');
  await Promise.all(nodes.filter((n) => n.child).map((n) => new Promise((resolve) => (n.up ? n.child.once('exit', resolve) : resolve()))));
  await Promise.all(proxies.map((p) => p.close()));
  if (!args.keep) rmSync(work, { recursive: true, force: true });
};

run()
  .catch((error) => {
    log(`error: ${error.message}`);
    process.exitCode = 1;
    args.keep = true;
  })
  .finally(shutdown);
