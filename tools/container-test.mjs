#!/usr/bin/env node
// Container test: builds the image, starts the three-node compose cluster and drives it only from
// outside (exec into containers, the host bind mounts, the engine's network commands).
//
//   npm run test:containers
//
// tools/container-engine.sh prepares an engine where none runs (Podman + podman-compose) and
// prints the compose command; with Docker installed it prints `docker compose` and this test
// runs unchanged. Needs no npm dependencies. The cluster runs as compose project `synctest`
// (SYNC_TEST_PROJECT) with its folders under tmp/container-test/ (git-ignored), so it does not
// touch ./sync_dir or a cluster you started yourself; it is torn down even when a step fails, and
// on failure the containers' logs are printed first.
//
// Scenarios (issue 4): 1. create/modify/delete in node1 and a host drop into node2 reach every
// node with the same bytes; 2. a stopped node3 catches up when started; 3. a partitioned node2
// and node1 edit one file: all converge on the winner plus exactly one conflict copy;
// 4. `compose down` stops every container within seconds; 5. non-root user, healthy health check.
/* global fetch */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const project = process.env.SYNC_TEST_PROJECT ?? 'synctest';
const services = ['node1', 'node2', 'node3'];
const image = 'sync-node:local';
const baseImage = 'node:24-bookworm-slim';
/** Every wait is for a condition; this is only the point where waiting becomes failing. */
const waitMs = 120_000;
const pollMs = 25;
/** Docker's and podman's stop fallback (SIGKILL) comes after 10 s; a clean stop must beat it clearly. */
const cleanStopMsMax = 8_000;
const hostRoot = join(root, 'tmp', 'container-test');
/** A generous bound for the whole `down` of three containers; one SIGKILL fallback alone takes 10 s. */
const downMsMax = 9_500;

const timings = [];
const passed = [];
const startedAt = Date.now();

// ---------------------------------------------------------------- processes

/** Runs a command; resolves with its output. `check` (default) rejects on a non-zero exit. */
function run(command, args, { env = process.env, check = true, echo = false, timeoutMs = 30 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (echo) process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, signal, stdout, stderr, ms: Date.now() - began };
      if (check && result.code !== 0) {
        const tail = (stderr || stdout).trim().split('\n').slice(-25).join('\n');
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`));
      } else {
        resolve(result);
      }
    });
  });
}

// ---------------------------------------------------------------- engine and compose

const engineSetup = await run('bash', [join(root, 'tools', 'container-engine.sh')], { echo: false }).catch((error) => {
  console.error(`container-test: cannot prepare a container engine\n${error.message}`);
  process.exit(1);
});
const composeLine = engineSetup.stdout.trim().split('\n').at(-1)?.trim() ?? '';
const [composeBin, ...composePrefix] = composeLine.split(/\s+/);
assert.ok(composeBin, 'tools/container-engine.sh printed no compose command');
const engine = composeBin === 'docker' ? 'docker' : 'podman';
/** podman-compose reads the repository's .env over the environment, docker compose the other way round. */
const dotenvWins = composeBin === 'podman-compose';
console.log(`container-test: engine ${engine}, compose command "${composeLine}", project ${project}`);

const dotenv = readDotenv(join(root, '.env'));
const uid = process.getuid?.() ?? 1000;
const gid = process.getgid?.() ?? 1000;
const wanted = {
  SYNC_SECRET: randomBytes(32).toString('hex'),
  // As root, still run the nodes unprivileged (scenario 5) and hand them their folders below.
  UID: String(uid === 0 ? 1000 : uid),
  GID: String(uid === 0 ? 1000 : gid),
  SYNC_POLL: process.env.SYNC_POLL || 'off',
  // Not the default, so the start-up line shows that compose passed it through.
  SYNC_RESCAN: process.env.SYNC_RESCAN || '45',
  SYNC_STATUS_PORT: String(await freePort()),
  SYNC_HOST_DIR: hostRoot,
};
if (dotenvWins && dotenv.SYNC_HOST_DIR !== undefined) {
  // The test empties its folders; never let .env point it at real ones.
  console.error('container-test: .env sets SYNC_HOST_DIR, which podman-compose would prefer over the test\'s folders; unset it to run the test');
  process.exit(1);
}
const effective = dotenvWins ? { ...wanted, ...pick(dotenv, Object.keys(wanted)) } : wanted;
for (const name of Object.keys(wanted)) {
  if (dotenvWins && dotenv[name] !== undefined) console.log(`container-test: note: podman-compose takes ${name} from .env over the test's value`);
}
const composeEnv = {
  ...process.env,
  ...wanted,
  COMPOSE_PROJECT_NAME: project,
  // Podman builds OCI images by default, which drop HEALTHCHECK; Docker ignores this.
  BUILDAH_FORMAT: 'docker',
};

function compose(args, options = {}) {
  return run(composeBin, [...composePrefix, '-p', project, '-f', join(root, 'docker-compose.yml'), ...args], { env: composeEnv, ...options });
}

async function containerOf(service) {
  const { stdout } = await run(engine, [
    'ps', '-a',
    '--filter', `label=com.docker.compose.project=${project}`,
    '--filter', `label=com.docker.compose.service=${service}`,
    '--format', '{{.Names}}',
  ]);
  const names = stdout.trim().split('\n').filter(Boolean);
  assert.equal(names.length, 1, `expected one container for ${service}, found ${names.length}: ${names.join(', ')}`);
  return names[0];
}

async function inspect(target, format) {
  return (await run(engine, ['inspect', '--format', format, target])).stdout.trim();
}

async function exec(service, script) {
  return (await run(engine, ['exec', containers[service], 'sh', '-c', script])).stdout;
}

/** Docker runs health checks by itself; Podman needs systemd for that, so ask it to run one now. */
async function healthOf(service) {
  if (engine === 'podman') await run('podman', ['healthcheck', 'run', containers[service]], { check: false });
  return inspect(containers[service], '{{if .State.Health}}{{.State.Health.Status}}{{end}}');
}

/** A node that exits (bad config, crash) is restarted by its policy: fail now instead of at the time-out. */
async function assertNotRestarting() {
  for (const service of services) {
    const restarts = Number(await inspect(containers[service], '{{.RestartCount}}'));
    if (restarts > 0) throw new FatalError(`${service} exited and was restarted ${restarts} time(s); see its log`);
  }
}

class FatalError extends Error {}

async function statusOf(service) {
  const script = "fetch('http://127.0.0.1:8384/status').then((r) => r.text()).then((t) => process.stdout.write(t))";
  return JSON.parse(await run(engine, ['exec', containers[service], 'node', '-e', script]).then((r) => r.stdout));
}

// ---------------------------------------------------------------- waiting and files

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs` naming what it waited for. */
async function waitFor(what, probe, { timeoutMs = waitMs, everyMs = pollMs } = {}) {
  const began = Date.now();
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return { value, ms: Date.now() - began };
      last = undefined;
    } catch (error) {
      if (error instanceof FatalError) throw error;
      last = error;
    }
    if (Date.now() - began > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const hostPath = (service, rel) => join(hostRoot, service, rel);

async function hostRead(service, rel) {
  try {
    return await readFile(hostPath(service, rel));
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Waits until `rel` holds exactly `bytes` on every listed node; returns the time it took. */
async function waitSame(rel, bytes, on, what) {
  const want = sha(bytes);
  const { ms } = await waitFor(`${what}: ${rel} with sha256 ${want.slice(0, 12)} on ${on.join(', ')}`, async () => {
    for (const service of on) {
      const got = await hostRead(service, rel);
      if (got === null || sha(got) !== want) return false;
    }
    return true;
  });
  return ms;
}

async function waitGone(rel, on, what) {
  const { ms } = await waitFor(`${what}: ${rel} gone on ${on.join(', ')}`, async () => {
    for (const service of on) if ((await hostRead(service, rel)) !== null) return false;
    return true;
  });
  return ms;
}

async function listHost(service, relDir) {
  try {
    return (await readdir(hostPath(service, relDir))).sort();
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
}

function note(label, ms) {
  timings.push([label, ms]);
  console.log(`  ${label}: ${ms} ms`);
}

function step(name) {
  console.log(`\n== ${name}`);
}

// ---------------------------------------------------------------- the test

const containers = {};
/** Logs kept from `logs -f` when the containers are gone (scenario 4), for the failure report. */
const capturedLogs = {};
let failed = false;
let downMeasured = false;
try {
  await rm(hostRoot, { recursive: true, force: true });
  for (const service of services) {
    await mkdir(hostPath(service, ''), { recursive: true });
    if (uid === 0) await chown(hostPath(service, ''), Number(effective.UID), Number(effective.GID));
  }
  // Leftovers of an interrupted run would be reused by `up`: start from nothing.
  await teardown({ quiet: true });

  step('compose refuses to start without a secret');
  if (dotenvWins && dotenv.SYNC_SECRET) {
    console.log('  skipped: .env sets SYNC_SECRET and podman-compose prefers it');
  } else {
    const noSecret = await run(composeBin, [...composePrefix, '-p', `${project}nosecret`, '-f', join(root, 'docker-compose.yml'), 'ps'], {
      // Unset, not empty: podman-compose 1.0 treats an empty variable as set (docker compose refuses both).
      env: Object.fromEntries(Object.entries(composeEnv).filter(([name]) => name !== 'SYNC_SECRET')),
      check: false,
    });
    assert.notEqual(noSecret.code, 0, 'compose accepted a file with no SYNC_SECRET');
    assert.match(noSecret.stdout + noSecret.stderr, /set SYNC_SECRET in \.env \(see \.env\.example\)/);
    passed.push('no secret: compose stops with "set SYNC_SECRET in .env (see .env.example)"');
  }

  step('build and start');
  const build = await compose(['build'], { echo: true });
  note('image build', build.ms);
  const up = await compose(['up', '-d'], { echo: true });
  note('compose up -d', up.ms);
  for (const service of services) containers[service] = await containerOf(service);
  console.log(`  containers: ${services.map((s) => containers[s]).join(', ')}`);

  step('5. non-root user and health check');
  const healthy = await waitFor('all three containers healthy', async () => {
    await assertNotRestarting();
    const states = await Promise.all(services.map(healthOf));
    return states.every((s) => s === 'healthy');
  }, { everyMs: 500 });
  note('up → all healthy', healthy.ms);
  assert.equal(await run(engine, ['image', 'inspect', '--format', '{{.Config.User}}', image]).then((r) => r.stdout.trim()), 'node');
  for (const service of services) {
    const id = (await exec(service, 'id -u')).trim();
    assert.notEqual(id, '0', `${service} runs as root`);
    assert.equal(id, effective.UID, `${service} runs as uid ${id}, compose asked for ${effective.UID}`);
  }
  // SYNC_POLL reaches the daemon: the start-up line names the watch mode.
  const startLog = await run(engine, ['logs', containers.node1]).then((r) => r.stdout + r.stderr);
  const polling = !/^(off|0|false|no)$/i.test(effective.SYNC_POLL.trim());
  assert.match(startLog, polling ? /watch="?poll every/ : /watch=events/, `node1's start-up log does not show the watch mode SYNC_POLL=${effective.SYNC_POLL} asks for`);
  const rescan = /^(off|0|false|no)$/i.test(effective.SYNC_RESCAN.trim()) ? 'off' : `every ${Number(effective.SYNC_RESCAN)} min`;
  assert.ok(startLog.includes(`rescan="${rescan}"`) || startLog.includes(`rescan=${rescan}`), `node1's start-up log does not show the rescan SYNC_RESCAN=${effective.SYNC_RESCAN} asks for`);
  const appFiles = (await exec('node1', 'ls -A /app')).trim().split('\n').sort();
  assert.deepEqual(appFiles, ['healthcheck.mjs', 'main.js', 'main.js.map', 'package.json'], 'the runtime image holds only the bundle');
  // Without it Node parses the bundle as CommonJS, then again as ESM: ~6 MiB more per daemon.
  assert.equal(JSON.parse(await exec('node1', 'cat /app/package.json')).type, 'module', '/app/package.json must say the bundle is an ES module');
  passed.push(`5. image user "node", containers run as uid ${effective.UID}, health checks healthy, /app holds only the bundle, marked as an ES module`);
  passed.push(`SYNC_POLL=${effective.SYNC_POLL}: the nodes watch by ${polling ? 'polling' : 'filesystem events'}`);
  passed.push(`SYNC_RESCAN=${effective.SYNC_RESCAN}: the nodes walk the folder again ${rescan}`);

  const mesh = await waitFor('a full mesh (every node reports two peers)', async () => {
    const states = await Promise.all(services.map(statusOf));
    return states.every((s) => s.peers.length === 2);
  }, { everyMs: 250 });
  note('healthy → full mesh', mesh.ms);
  const hostStatus = await fetch(`http://127.0.0.1:${effective.SYNC_STATUS_PORT}/status`).then((r) => r.json());
  assert.equal(hostStatus.nodeId, 'node1', 'the host loopback port serves node1\'s status page');
  passed.push(`node1's status page answers on 127.0.0.1:${effective.SYNC_STATUS_PORT}`);

  step('1. create, modify, delete in node1; drop a file into sync_dir/node2 on the host');
  const createdAt = Date.now();
  await exec('node1', 'mkdir -p /data/docs && head -c 300000 /dev/urandom > /data/docs/created.bin');
  const created = await hostRead('node1', 'docs/created.bin');
  assert.equal(created?.length, 300000);
  await waitSame('docs/created.bin', created, ['node2', 'node3'], 'create');
  note('create (300 kB, exec in node1) → on node2 and node3', Date.now() - createdAt);

  const modifiedAt = Date.now();
  await exec('node1', "printf 'appended line\\n' >> /data/docs/created.bin");
  const modified = await hostRead('node1', 'docs/created.bin');
  assert.equal(modified?.length, 300000 + 'appended line\n'.length);
  await waitSame('docs/created.bin', modified, ['node2', 'node3'], 'modify');
  note('modify (append, exec in node1) → node2 and node3', Date.now() - modifiedAt);

  const deletedAt = Date.now();
  await exec('node1', 'rm /data/docs/created.bin');
  await waitGone('docs/created.bin', ['node2', 'node3'], 'delete');
  note('delete (exec in node1) → gone on node2 and node3', Date.now() - deletedAt);

  const dropped = Buffer.from(`dropped on the host into node2 at ${new Date().toISOString()}\n`);
  await writeFile(hostPath('node2', 'host-drop.txt'), dropped);
  const dropMs = await waitSame('host-drop.txt', dropped, ['node1', 'node3'], 'host drop');
  note('host file written into sync_dir/node2 → on node1 and node3', dropMs);
  passed.push('1. create, modify and delete in node1 and a host drop into node2 reach every node with the same bytes');

  step('2. stop node3, change files on node1, start node3');
  await exec('node1', "mkdir -p /data/s2 && printf 'doomed\\n' > /data/s2/doomed.txt");
  await waitSame('s2/doomed.txt', Buffer.from('doomed\n'), services, 'setup');
  const stop3 = await compose(['stop', 'node3']);
  note('compose stop node3', stop3.ms);
  assert.equal(await inspect(containers.node3, '{{.State.Running}}'), 'false');
  assert.equal(await inspect(containers.node3, '{{.State.ExitCode}}'), '0', 'node3 did not exit cleanly on SIGTERM (137 means SIGKILL)');
  assert.ok(stop3.ms < cleanStopMsMax, `stopping node3 took ${stop3.ms} ms`);
  await exec('node1', "printf 'written while node3 was down\\n' > /data/s2/new.txt && printf 'changed while node3 was down\\n' > /data/host-drop.txt && rm /data/s2/doomed.txt");
  const newBytes = Buffer.from('written while node3 was down\n');
  const changedBytes = Buffer.from('changed while node3 was down\n');
  await waitSame('s2/new.txt', newBytes, ['node2'], 'while node3 is down');
  await waitSame('host-drop.txt', changedBytes, ['node2'], 'while node3 is down');
  await waitGone('s2/doomed.txt', ['node2'], 'while node3 is down');
  assert.equal((await hostRead('node3', 's2/new.txt')), null, 'node3 got a change while stopped');
  const startedNode3 = Date.now();
  await compose(['start', 'node3']);
  await waitSame('s2/new.txt', newBytes, ['node3'], 'catch-up');
  await waitSame('host-drop.txt', changedBytes, ['node3'], 'catch-up');
  await waitGone('s2/doomed.txt', ['node3'], 'catch-up');
  note('start node3 → caught up (create, modify, delete)', Date.now() - startedNode3);
  await waitFor('node3 healthy again', async () => (await healthOf('node3')) === 'healthy', { everyMs: 500 });
  passed.push(`2. node3 stopped cleanly (exit 0, ${stop3.ms} ms) and caught up after start`);

  step('3. partition node2, edit one file on node1 and node2, heal');
  await waitFor('node3 back in the mesh', async () => (await Promise.all(services.map(statusOf))).every((s) => s.peers.length === 2), { everyMs: 250 });
  await exec('node1', "mkdir -p /data/conflict && printf 'base\\n' > /data/conflict/report.txt");
  await waitSame('conflict/report.txt', Buffer.from('base\n'), services, 'setup');
  const network = (await inspect(containers.node2, '{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{end}}')).trim().split(/\s+/)[0];
  assert.ok(network, 'node2 is on no network');
  await run(engine, ['network', 'disconnect', network, containers.node2]);
  const cut = await waitFor('node1 and node3 to notice node2 is gone', async () => {
    const [s1, s3] = await Promise.all([statusOf('node1'), statusOf('node3')]);
    return [s1, s3].every((s) => !s.peers.some((p) => p.nodeId === 'node2'));
  }, { everyMs: 250 });
  note('network disconnect → peers notice', cut.ms);
  const fromNode1 = Buffer.from('edit made on node1 during the partition\n');
  const fromNode2 = Buffer.from('edit made on node2 during the partition, later\n');
  await exec('node1', "printf 'edit made on node1 during the partition\\n' > /data/conflict/report.txt");
  await waitSame('conflict/report.txt', fromNode1, ['node3'], 'node1\'s edit reaching node3');
  assert.deepEqual(await hostRead('node2', 'conflict/report.txt'), Buffer.from('base\n'), 'node2 saw node1\'s edit through the partition');
  // node2's edit comes after node1's is on node3, so its mtime is later: it is the winner.
  await exec('node2', "printf 'edit made on node2 during the partition, later\\n' > /data/conflict/report.txt");
  const loserMtime = (await stat(hostPath('node1', 'conflict/report.txt'))).mtimeMs;
  const healedAt = Date.now();
  await run(engine, ['network', 'connect', '--alias', 'node2', network, containers.node2]);
  const expectedCopy = `report.sync-conflict-${conflictStamp(loserMtime)}-node1.txt`;
  await waitFor(`report.txt = node2's edit and one conflict copy ${expectedCopy} = node1's edit on every node`, async () => {
    for (const service of services) {
      const report = await hostRead(service, 'conflict/report.txt');
      if (report === null || !report.equals(fromNode2)) return false;
      const names = await listHost(service, 'conflict');
      if (names.length !== 2 || !names.includes(expectedCopy)) return false;
      const copy = await hostRead(service, `conflict/${expectedCopy}`);
      if (copy === null || !copy.equals(fromNode1)) return false;
    }
    return true;
  }, { everyMs: 100 });
  note('network connect → converged with one conflict copy', Date.now() - healedAt);
  for (const service of services) {
    assert.deepEqual(await listHost(service, 'conflict'), [expectedCopy, 'report.txt'].sort(), `conflict/ on ${service}`);
  }
  passed.push(`3. after the partition every node holds node2's edit and exactly one copy ${expectedCopy} with node1's`);

  step('every folder identical');
  const trees = await Promise.all(services.map((service) => treeDigest(hostPath(service, ''))));
  assert.deepEqual(trees[1], trees[0], 'node2 differs from node1');
  assert.deepEqual(trees[2], trees[0], 'node3 differs from node1');
  passed.push(`all three folders identical (${Object.keys(trees[0]).length} files)`);

  step('image size');
  const [imageBytes, baseBytes] = await Promise.all([image, baseImage].map(async (name) => Number(await run(engine, ['image', 'inspect', '--format', '{{.Size}}', name]).then((r) => r.stdout.trim()))));
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`  ${image}: ${mb(imageBytes)}; ${baseImage}: ${mb(baseBytes)}; the image adds ${mb(imageBytes - baseBytes)} (${((imageBytes / baseBytes - 1) * 100).toFixed(1)}%)`);
  timings.push(['image size over base', `${mb(imageBytes)} / ${mb(baseBytes)} = ${(imageBytes / baseBytes).toFixed(3)}`]);

  step('4. compose down');
  // Follow every log through the stop: `down` removes the containers, and the daemon's own
  // "stopping"/"stopped" lines tell a clean stop from a SIGKILL and a slow daemon from a slow exit.
  const followers = Object.fromEntries(services.map((service) => [service, followLogs(containers[service])]));
  await waitFor('log followers attached', () => services.every((service) => followers[service].text().includes('running')));
  const downStartedMs = Date.now();
  const down = await compose(['down', '-v']);
  downMeasured = true;
  note('compose down -v (three running containers)', down.ms);
  const stops = {};
  for (const service of services) {
    const log = await followers[service].finish();
    capturedLogs[service] = log;
    const stopping = lastStamp(log, /stopping\b.*reason=SIGTERM/, downStartedMs);
    const stopped = lastStamp(log, /stopped\b.*exitCode=0/, downStartedMs);
    assert.ok(stopping !== null, `${service} never logged "stopping reason=SIGTERM" during down`);
    assert.ok(stopped !== null, `${service} did not finish a clean stop (no "stopped exitCode=0"): it was killed`);
    stops[service] = stopped - stopping;
    note(`${service}: SIGTERM → "stopped" (daemon side)`, stops[service]);
    assert.ok(stops[service] < cleanStopMsMax, `${service} took ${stops[service]} ms to stop`);
  }
  assert.ok(
    down.ms < downMsMax,
    `compose down took ${down.ms} ms although every daemon logged "stopped" within ${Math.max(...Object.values(stops))} ms: ` +
      'a process did not exit after its clean stop and met the 10 s SIGKILL fallback',
  );
  passed.push(`4. compose down stopped (cleanly, exit 0) and removed all three in ${down.ms} ms`);
} catch (error) {
  failed = true;
  console.error(`\ncontainer-test FAILED: ${error.stack ?? error}`);
  await printLogs();
} finally {
  await teardown({ quiet: !failed });
  await rm(hostRoot, { recursive: true, force: true }).catch(() => undefined);
}

console.log('\n== summary');
for (const line of passed) console.log(`  ok  ${line}`);
for (const [label, value] of timings) console.log(`  ${label}: ${typeof value === 'number' ? `${value} ms` : value}`);
console.log(`  total: ${((Date.now() - startedAt) / 1000).toFixed(1)} s${downMeasured ? '' : ' (compose down not measured)'}`);
console.log(failed ? 'container-test: FAILED' : 'container-test: passed');
process.exit(failed ? 1 : 0);

// ---------------------------------------------------------------- helpers

async function printLogs() {
  for (const service of services) {
    const name = containers[service];
    if (!name) continue;
    const logs = await run(engine, ['logs', '--tail', '200', name], { check: false });
    const text = logs.code === 0 ? logs.stdout + logs.stderr : (capturedLogs[service] ?? logs.stdout + logs.stderr).split('\n').slice(-200).join('\n');
    console.error(`\n---- logs of ${name} ----\n${text}`);
  }
}

/** `logs -f` of one container, kept until the container stops (it ends then by itself). */
function followLogs(name) {
  let text = '';
  const child = spawn(engine, ['logs', '-f', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => (text += chunk));
  child.stderr.on('data', (chunk) => (text += chunk));
  const closed = new Promise((resolve) => child.on('close', resolve));
  return {
    text: () => text,
    /** Waits for the follower to end with its container; stops it if it outlives the container by long. */
    async finish() {
      const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
      await closed;
      clearTimeout(timer);
      return text;
    },
  };
}

/** Time of the last log line matching `pattern` stamped at or after `sinceMs`, or null. */
function lastStamp(log, pattern, sinceMs) {
  let found = null;
  for (const line of log.split('\n')) {
    if (!pattern.test(line)) continue;
    const stamp = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)/.exec(line);
    const ms = stamp ? Date.parse(stamp[1]) : Number.NaN;
    if (ms >= sinceMs - 1_000) found = ms;
  }
  return found;
}

async function teardown({ quiet }) {
  const down = await compose(['down', '-v'], { check: false });
  if (!quiet && down.code !== 0) console.error(`teardown: compose down failed:\n${down.stderr}`);
  // podman-compose 1.0 leaves the project network behind; docker compose removes it itself.
  if (engine === 'podman') await run('podman', ['network', 'rm', '-f', `${project}_default`], { check: false });
}

/** The loser's mtime as the conflict name shows it: YYYYMMDD-HHMMSS, UTC. */
function conflictStamp(mtimeMs) {
  const iso = new Date(Math.floor(mtimeMs)).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** relative path → sha256 of every file under dir, skipping the state directory. */
async function treeDigest(dir, prefix = '') {
  const out = {};
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (rel === '.sync') continue;
    if (entry.isDirectory()) Object.assign(out, await treeDigest(dir, rel));
    else out[rel] = sha(await readFile(join(dir, rel)));
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function readDotenv(path) {
  if (!existsSync(path)) return {};
  const values = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

function pick(values, names) {
  return Object.fromEntries(names.filter((name) => values[name] !== undefined).map((name) => [name, values[name]]));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
