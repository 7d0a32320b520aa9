// Processes: spawning daemons, their peak RSS and CPU time from /proc, HTTP polling, waiting.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const clockTicks = 100; // USER_HZ on Linux

/** A free loopback TCP port, from the kernel. */
// The kernel may hand the same free port to two of these calls, since each is released at once:
// two daemons then fight over it (seen once: a node's HTTP port was its peer's listen port and the
// run hung). Ports already handed out in this process are skipped.
const handedOut = new Set();

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

const live = new Set();
// A crashed or interrupted suite must not leave daemons behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts a long-running process with its output in a log file. */
export function startDaemon(command, args, { logFile, env, cwd } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopDaemon(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Runs a command to completion; resolves with its output, rejects on a non-zero exit. */
export function run(command, args, { env, cwd, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 && !allowFail) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17, ppid=4
    return {
      ppid: Number(fields[1]),
      cpuS: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / clockTicks,
    };
  } catch {
    return null;
  }
}

function readHwmKiB(pid) {
  return readStatusKiB(pid, /VmHWM:\s+(\d+)/);
}

function readStatusKiB(pid, pattern) {
  try {
    const match = pattern.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and every live descendant. */
function processTree(rootPid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (!stat) continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(Number(name));
  }
  const tree = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds (own + reaped children, over the live tree) and peak RSS of one daemon's process
 * tree. Forked workers (rsync's per-connection children) are caught by sampling every `everyMs`.
 */
export class ProcWatch {
  constructor(pid, { everyMs = 100, tree = false } = {}) {
    this.pid = pid;
    this.tree = tree;
    this.peakKiB = 0;
    this.cpuS = 0;
    this.baseCpuS = 0;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  sample() {
    const pids = this.tree ? processTree(this.pid) : [this.pid];
    let cpu = 0;
    for (const pid of pids) {
      cpu += readStat(pid)?.cpuS ?? 0;
      this.peakKiB = Math.max(this.peakKiB, readHwmKiB(pid));
    }
    if (cpu > 0) this.cpuS = cpu;
    return this.cpuS;
  }

  /** Resident memory now (`VmRSS`) in MiB, over the tree as sampled now. */
  rssNowMiB() {
    const pids = this.tree ? processTree(this.pid) : [this.pid];
    return round(pids.reduce((sum, pid) => sum + readStatusKiB(pid, /VmRSS:\s+(\d+)/), 0) / 1024, 1);
  }

  /** Starts a measuring window: CPU counts from here, the peak RSS stays since process start. */
  mark() {
    this.baseCpuS = this.sample();
  }

  /** CPU seconds since mark(), and peak RSS in MiB since the process started. */
  read() {
    this.sample();
    return { cpuS: round(this.cpuS - this.baseCpuS, 3), rssPeakMiB: round(this.peakKiB / 1024, 1) };
  }

  stop() {
    clearInterval(this.timer);
  }
}

export async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Polls `check` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 120_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await sleep(everyMs);
  }
}

export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Payload bytes (both directions) of the established loopback TCP connections that touch one of
 * `ports`. Both ends of a loopback connection are local and some dialers bind their listen port
 * (Syncthing does), so each connection is counted once, from one of its two sockets.
 */
export async function tcpBytes(ports) {
  if (ports.length === 0) return 0;
  const wanted = new Set(ports.map(String));
  const { stdout } = await run('ss', ['-tinH', 'state', 'established'], { allowFail: true });
  const lines = stdout.split('\n');
  const seen = new Set();
  let total = 0;
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i].trim().split(/\s+/);
    if (head.length < 4 || !/:\d+$/.test(head[2] ?? '')) continue;
    const [local, peer] = [head[2], head[3]];
    const info = lines[i + 1] ?? '';
    const port = (address) => address.slice(address.lastIndexOf(':') + 1);
    if (!wanted.has(port(local)) && !wanted.has(port(peer))) continue;
    const key = [local, peer].sort().join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    total += Number(/bytes_acked:(\d+)/.exec(info)?.[1] ?? 0) + Number(/bytes_received:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}
