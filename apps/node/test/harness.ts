import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built daemon. Process tests run the bundle, never the sources: it is what ships. */
export const builtMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * Copies dist/main.js into a fresh temp dir far from any node_modules, so a test proves the
 * bundle runs with plain `node` and nothing installed.
 */
export async function isolatedMain(): Promise<{ main: string; root: string; cleanup: () => Promise<void> }> {
  if (!existsSync(builtMain)) throw new Error(`${builtMain} is missing: build first (npx tsup, or nx run @sync/node:test which builds)`);
  const root = await mkdtemp(join(tmpdir(), 'sync-node-test-'));
  const main = join(root, 'main.js');
  await copyFile(builtMain, main);
  return { main, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One daemon process with its output collected line by line. */
export class NodeProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    main: string,
    args: readonly string[],
    env: Record<string, string>,
    cwd: string,
  ) {
    // A clean environment: no SYNC_* or NODE_OPTIONS leaking in from whoever runs the tests.
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd };
    this.child = spawn(process.execPath, [main, ...args], { cwd, env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        this.lines.push(...parts);
      });
      stream?.on('end', () => {
        if (partial) this.lines.push(partial);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === null;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Waits for a line matching `pattern` and returns it. */
  waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(() => this.lines.find((line) => pattern.test(line)), timeoutMs, `${this.name}: a line matching ${pattern}\n--- output so far:\n${this.output}`);
  }

  /** SIGKILL if still running; for cleanup after a failure. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}

/** Runs the daemon to completion (for flags that exit at once) and returns exit and output. */
export async function runToExit(main: string, args: readonly string[], env: Record<string, string>, cwd: string, timeoutMs = 15_000): Promise<Exit & { output: string }> {
  const node = new NodeProcess('sync-node', main, args, env, cwd);
  const timer = setTimeout(() => node.signal('SIGKILL'), timeoutMs);
  const exit = await node.exited;
  clearTimeout(timer);
  return { ...exit, output: node.output };
}

/**
 * Polls `probe` until it returns something truthy, then returns that. No fixed sleeps: the
 * time-out is a ceiling, not a wait.
 */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `\nlast error: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * `count` distinct free loopback ports. Peers need real port numbers in their URLs, so port 0
 * will not do; the servers are held open together so no port is handed out twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function sha256File(path: string): Promise<string | null> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return null;
  }
}

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}
