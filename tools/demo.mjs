#!/usr/bin/env node
// Local demo of sync-node, no Docker needed.
//
//   npm run demo                 three nodes on sync_dir/node1..3, full mesh on 127.0.0.1:7071-7073,
//                                HTTP status on 127.0.0.1:8385-8387; builds apps/node first if needed.
//   node tools/demo.mjs --build  the same, rebuilding first.
//   npm start [-- FLAGS]         (tools/demo.mjs --single) one node on ./sync_dir with sync-node's
//                                defaults; extra flags go to sync-node.
//
// Secret: unless you give one (SYNC_SECRET, SYNC_SECRET_FILE, --secret, --secret-file or
// --insecure), the nodes use tmp/dev-secret, a random secret generated on first use and kept
// (git-ignored) so restarted nodes rejoin. Point another sync-node at it with
// SYNC_SECRET_FILE=tmp/dev-secret to join the demo. It lives outside every synced folder.
//
// Ctrl-C (or SIGTERM) stops every node cleanly; the script exits once they have.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'apps', 'node', 'dist', 'main.js');
const secretFile = join(root, 'tmp', 'dev-secret');
/** After a stop signal, nodes get this long before they are killed; sync-node itself gives up at 8 s. */
const stopGraceMs = 12_000;
// V8's young generation as Node 20 sizes it (see daemonEnv).
const youngGenerationCap = '--max-semi-space-size=16';

const args = process.argv.slice(2);
const single = args.includes('--single');
const forceBuild = args.includes('--build');
const passThrough = args.filter((arg) => arg !== '--single' && arg !== '--build');

if (!single && passThrough.length > 0) {
  console.error(`demo: unknown arguments ${passThrough.join(' ')} (only --build; flags for sync-node go with --single)`);
  process.exit(2);
}

build();
if (single) runSingle();
else runCluster();

function build() {
  // Always through Nx: its cache makes an unchanged build instant, and a stale bundle is never run.
  if (forceBuild) console.log('demo: building apps/node (npx nx run @sync/node:build)…');
  const result = spawnSync('npx', ['nx', 'run', '@sync/node:build', '--outputStyle=static', ...(forceBuild ? ['--skip-nx-cache'] : [])], {
    cwd: root,
    stdio: forceBuild ? 'inherit' : ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
  });
  if (result.status !== 0 || !existsSync(main)) {
    console.error('demo: the build failed; see above');
    process.exit(1);
  }
}

/** The secret every demo node shares; generated once. */
function devSecretFile() {
  if (!existsSync(secretFile)) {
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    console.log(`demo: generated a cluster secret in ${relative(root, secretFile)}`);
  }
  return secretFile;
}

function hasOwnSecret(env, flags) {
  const envGiven = ['SYNC_SECRET', 'SYNC_SECRET_FILE', 'SYNC_INSECURE'].some((name) => (env[name] ?? '') !== '');
  const flagGiven = flags.some((flag) => /^--(secret|secret-file|insecure)(=|$)/.test(flag));
  return envGiven || flagGiven;
}

/**
 * The daemon's environment as the image has it (unless set): libuv's thread pool at 16 threads
 * (every file written is several blocking calls on that pool, and 4 threads made a sync of 10,000
 * small files ~30 % slower), and V8's young generation capped at Node 20's 16 MB a semi-space
 * (Node 24 grows it further and holds ~100 MiB more on 100,000 files). Node reads both before any
 * code runs, so the daemon cannot do this itself.
 */
function daemonEnv(extra = {}) {
  const nodeOptions = process.env.NODE_OPTIONS ?? '';
  return {
    ...process.env,
    UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16',
    NODE_OPTIONS: nodeOptions.includes('--max-semi-space-size') ? nodeOptions : `${nodeOptions} ${youngGenerationCap}`.trim(),
    ...extra,
  };
}

function runSingle() {
  const env = daemonEnv();
  if (!hasOwnSecret(env, passThrough)) {
    env.SYNC_SECRET_FILE = devSecretFile();
    console.log(`demo: using the dev secret ${relative(root, secretFile)} (set SYNC_SECRET or SYNC_SECRET_FILE to use your own)`);
  }
  const child = spawn(process.execPath, [main, ...passThrough], { cwd: root, env, stdio: 'inherit' });
  // The terminal's Ctrl-C reaches the child directly; a SIGTERM sent to this script is passed on.
  const forward = (signal) => child.exitCode === null && child.kill(signal);
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function runCluster() {
  const secret = hasOwnSecret(process.env, []) ? null : devSecretFile();
  const colours = ['\x1b[36m', '\x1b[35m', '\x1b[33m'];
  const useColour = process.stdout.isTTY === true;
  const nodes = [1, 2, 3].map((n, i) => ({
    name: `node${n}`,
    dir: join(root, 'sync_dir', `node${n}`),
    listen: 7070 + n,
    http: 8384 + n,
    colour: useColour ? colours[i] : '',
    running: false,
    exit: null,
    child: null,
  }));
  let stopping = false;
  let announced = false;

  for (const node of nodes) {
    mkdirSync(node.dir, { recursive: true });
    const peers = nodes.filter((other) => other !== node).map((other) => `ws://127.0.0.1:${other.listen}`);
    const env = daemonEnv({
      SYNC_DIR: node.dir,
      SYNC_NODE_ID: node.name,
      SYNC_LISTEN: `127.0.0.1:${node.listen}`,
      SYNC_PEERS: peers.join(','),
      SYNC_HTTP: `127.0.0.1:${node.http}`,
      ...(secret ? { SYNC_SECRET_FILE: secret } : {}),
    });
    node.child = spawn(process.execPath, [main], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [node.child.stdout, node.child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => onLine(node, line));
    }
    node.child.on('close', (code, signal) => onExit(node, code, signal));
  }

  console.log(`demo: starting ${nodes.length} nodes${secret ? ` with the secret in ${relative(root, secret)}` : ''}…`);
  process.on('SIGINT', () => stopAll('Ctrl-C'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));

  function onLine(node, line) {
    const reset = node.colour ? '\x1b[0m' : '';
    process.stdout.write(`${node.colour}[${node.name}]${reset} ${line}\n`);
    if (!node.running && /INFO +running\b|"msg":"running"/.test(line)) {
      node.running = true;
      if (!announced && nodes.every((n) => n.running)) announce();
    }
  }

  function announce() {
    announced = true;
    const lines = [
      '',
      'demo: all nodes are running. Drop files into any of:',
      ...nodes.map((n) => `  ${relative(process.cwd(), n.dir) || n.dir}    status http://127.0.0.1:${n.http}/status  metrics http://127.0.0.1:${n.http}/metrics`),
      'and watch them appear in the others. Press Ctrl-C to stop all nodes.',
      '',
    ];
    console.log(lines.join('\n'));
  }

  function onExit(node, code, signal) {
    node.exit = { code, signal };
    if (!stopping) {
      console.error(`demo: ${node.name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the others`);
      stopAll(`${node.name} exited`, 1);
      return;
    }
    if (nodes.every((n) => n.exit)) {
      const failed = nodes.filter((n) => n.exit.code !== 0);
      console.log(failed.length === 0 ? 'demo: all nodes stopped cleanly' : `demo: ${failed.map((n) => n.name).join(', ')} did not stop cleanly`);
      process.exit(failed.length === 0 && process.exitCode !== 1 ? 0 : 1);
    }
  }

  function stopAll(reason, exitCode = 0) {
    if (stopping) return;
    stopping = true;
    if (exitCode !== 0) process.exitCode = exitCode;
    console.log(`demo: ${reason}: stopping all nodes…`);
    // A terminal's Ctrl-C already reached the nodes; sync-node ignores the repeated signal.
    for (const node of nodes) if (!node.exit) node.child.kill('SIGTERM');
    setTimeout(() => {
      for (const node of nodes) {
        if (!node.exit) {
          console.error(`demo: ${node.name} did not stop within ${stopGraceMs / 1000} s; killing it`);
          node.child.kill('SIGKILL');
        }
      }
    }, stopGraceMs).unref();
    if (nodes.every((n) => n.exit)) process.exit(process.exitCode ?? 0);
  }
}
