import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, freePorts, httpGet, isolatedMain, runToExit } from './harness';

// Goal: the built dist/main.js, run by plain node away from any node_modules, honours the CLI contract.

let main = '';
let root = '';
let cleanup: () => Promise<void> = async () => {};
const started: NodeProcess[] = [];

beforeAll(async () => {
  ({ main, root, cleanup } = await isolatedMain());
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.kill()));
});
afterAll(async () => {
  await cleanup();
});

describe('flags that exit at once', () => {
  it('prints the package version for --version', async () => {
    const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runToExit(main, ['--version'], {}, root);
    expect(result).toMatchObject({ code: 0, output: packageJson.version });
  });

  it('prints usage for --help', async () => {
    const result = await runToExit(main, ['--help'], {}, root);
    expect(result.code).toBe(0);
    expect(result.output).toContain('Usage: sync-node [options]');
    expect(result.output).toContain('SYNC_SECRET_FILE');
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const result = await runToExit(main, ['--secret', 'x'.repeat(32), '--peers', 'ws://a:1'], {}, root);
    expect(result.code).toBe(2);
    expect(result.output).toContain('sync-node: unknown flag --peers (did you mean --peer?)');
    expect(result.output).toContain('see sync-node --help');
  });

  it('exits 2 on a bad value, naming the flag or variable and what is expected', async () => {
    const flag = await runToExit(main, ['--insecure', '--listen', 'localhost:99999'], {}, root);
    expect(flag.code).toBe(2);
    expect(flag.output).toContain('invalid --listen "localhost:99999": port 99999 is out of range');
    const env = await runToExit(main, ['--insecure'], { SYNC_CONFLICT: 'mine' }, root);
    expect(env.code).toBe(2);
    expect(env.output).toContain('invalid SYNC_CONFLICT "mine": expected one of keep-both, newest-wins');
  });

  it('refuses to start without a secret, says how to set one and touches nothing', async () => {
    const dir = join(root, 'never-created');
    const result = await runToExit(main, ['--dir', dir], {}, root);
    expect(result.code).toBe(2);
    expect(result.output).toContain('refusing to start without a cluster secret');
    for (const way of ['--secret-file', '--secret', 'SYNC_SECRET_FILE', 'SYNC_SECRET', '--insecure']) expect(result.output).toContain(way);
    expect(existsSync(dir)).toBe(false);
  });

  it('exits 2 when the secret file cannot be read', async () => {
    const result = await runToExit(main, [], { SYNC_SECRET_FILE: join(root, 'missing-secret') }, root);
    expect(result.code).toBe(2);
    expect(result.output).toContain('cannot read the secret file');
  });
});

describe('a single node', () => {
  it('serves /healthz, stops on SIGINT with exit 0 and keeps its node id across restarts', async () => {
    const [listen, http] = await freePorts(2);
    const dir = join(root, 'single');
    const args = ['--dir', dir, '--insecure', '--listen', `127.0.0.1:${listen}`, '--http', `127.0.0.1:${http}`];
    const first = new NodeProcess('single', main, args, {}, root);
    started.push(first);
    await first.waitForLine(/INFO +running /);
    expect(await httpGet(http as number, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const status = JSON.parse((await httpGet(http as number, '/status')).body) as { nodeId: string; health: string };
    expect(status.health).toBe('running');
    first.signal('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output).toMatch(/INFO +stopped/);

    const second = new NodeProcess('single-again', main, args, {}, root);
    started.push(second);
    const running = await second.waitForLine(/INFO +running /);
    expect(running).toContain(`node=${status.nodeId}`);
  });

  it('exits 1 with a clear message when the HTTP port is taken', async () => {
    const [listen, http] = await freePorts(2);
    const blocker = new NodeProcess('blocker', main, ['--dir', join(root, 'blocker'), '--insecure', '--listen', `127.0.0.1:${listen}`, '--http', `127.0.0.1:${http}`], {}, root);
    started.push(blocker);
    await blocker.waitForLine(/http listening/);
    const [otherListen] = await freePorts(1);
    const result = await runToExit(main, ['--dir', join(root, 'second'), '--insecure', '--listen', `127.0.0.1:${otherListen}`, '--http', `127.0.0.1:${http}`], {}, root);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/cannot serve HTTP on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  it('writes JSON lines with --log-format json', async () => {
    const [listen] = await freePorts(1);
    const node = new NodeProcess('json', main, ['--dir', join(root, 'json'), '--insecure', '--listen', `127.0.0.1:${listen}`, '--http', 'off', '--log-format', 'json'], {}, root);
    started.push(node);
    await node.waitForLine(/"msg":"running"/);
    node.signal('SIGTERM');
    await node.exited;
    const records = node.lines.filter((line) => line !== '').map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(records.map((record) => record.msg)).toEqual(expect.arrayContaining(['starting', 'running', 'stopping', 'stopped']));
  });
});
