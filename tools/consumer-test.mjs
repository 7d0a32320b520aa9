#!/usr/bin/env node
// The embedding promise, checked as a stranger would: pack the libraries with `npm pack`, install
// the tarballs into a fresh project outside the workspace, and run a script that imports
// @sync/core, syncs two folders over real WebSockets and exits. Needs the packages built first
// (`npm test` builds them before running this).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['protocol', 'conflict', 'watcher', 'transport', 'core'];
const work = mkdtempSync(join(tmpdir(), 'sync-consumer-'));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const script = `
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncNode } from '@sync/core';

const a = createSyncNode({ dir: mkdtempSync(join(tmpdir(), 'a-')), nodeId: 'a', secret: 'consumer-test', listen: { host: '127.0.0.1', port: 0 } });
await a.start();
const b = createSyncNode({ dir: mkdtempSync(join(tmpdir(), 'b-')), nodeId: 'b', secret: 'consumer-test', listen: null, peers: ['ws://127.0.0.1:' + a.address().port] });
await b.start();
writeFileSync(join(a.status().dir, 'hello.txt'), 'hello from a consumer');
const deadline = Date.now() + 30000;
const target = join(b.status().dir, 'hello.txt');
while (!(existsSync(target) && readFileSync(target, 'utf8') === 'hello from a consumer')) {
  if (Date.now() > deadline) { console.error('consumer: the file did not arrive'); process.exit(1); }
  await new Promise((r) => setTimeout(r, 20));
}
await Promise.all([a.stop(), b.stop()]);
console.log('consumer: synced hello.txt between two folders with @sync/core');
`;

try {
  for (const name of packages) {
    if (!existsSync(join(root, 'packages', name, 'dist', 'index.js'))) {
      throw new Error(`packages/${name} is not built; run the build first (npm test does)`);
    }
    run('npm', ['pack', '--silent', '--pack-destination', work], join(root, 'packages', name));
  }
  const tarballs = readdirSync(work).filter((file) => file.endsWith('.tgz')).map((file) => join(work, file));
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(project, 'sync-two.mjs'), script);
  run('npm', ['install', '--no-audit', '--no-fund', '--silent', ...tarballs], project);
  if (existsSync(join(project, 'node_modules', '@sync', 'core', 'src'))) throw new Error('the @sync/core tarball ships its sources');
  process.stdout.write(run('node', ['sync-two.mjs'], project));
} catch (error) {
  console.error(`consumer test failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
