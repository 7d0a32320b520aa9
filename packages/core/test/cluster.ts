import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryNetwork } from '@sync/transport/testing';
import { createSyncNode } from '../src/index';
import type { SyncNode, SyncNodeOptions } from '../src/index';

export type TransportKind = 'ws' | 'memory';

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  hash?: string;
  target?: string;
  mode?: number;
}

/** The synced content of a folder (state dir excluded), for comparing nodes. */
export async function readTree(root: string, options: { modes?: boolean } = {}): Promise<Record<string, TreeEntry>> {
  const tree: Record<string, TreeEntry> = {};
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!prefix && entry.name === '.sync') continue;
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const abs = join(dir, entry.name);
      const stat = await lstat(abs);
      if (entry.isSymbolicLink()) tree[rel] = { type: 'symlink', target: await readlink(abs) };
      else if (entry.isDirectory()) {
        tree[rel] = { type: 'dir', ...(options.modes ? { mode: stat.mode & 0o777 } : {}) };
        await walk(abs, rel);
      } else {
        tree[rel] = {
          type: 'file',
          hash: createHash('sha256').update(await readFile(abs)).digest('hex'),
          ...(options.modes ? { mode: stat.mode & 0o777 } : {}),
        };
      }
    }
  };
  await walk(root, '');
  return tree;
}

/** Temp files left in a node's state dir (`<dir>/.sync/tmp`, at any depth). */
export async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(dir, '.sync', 'tmp'), { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
}

export async function treesEqual(dirs: string[]): Promise<boolean> {
  const trees = await Promise.all(dirs.map((dir) => readTree(dir).catch(() => null)));
  const first = JSON.stringify(sortKeys(trees[0]));
  return trees.every((tree) => tree !== null && JSON.stringify(sortKeys(tree)) === first);
}

function sortKeys(tree: Record<string, TreeEntry> | null | undefined): [string, TreeEntry][] {
  return Object.entries(tree ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
}

export interface TestNode {
  name: string;
  dir: string;
  node: SyncNode;
  url: string;
}

/**
 * Several engines in this process on real temp folders, over real WebSockets on loopback or the
 * in-memory network. `restart` keeps the folder and state dir, as a process restart would.
 */
export class Cluster {
  readonly nodes = new Map<string, TestNode>();
  private readonly network = createMemoryNetwork();
  private root = '';

  constructor(
    private readonly kind: TransportKind,
    private readonly extra: Partial<SyncNodeOptions> = {},
  ) {}

  async init(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'sync-core-'));
  }

  dirOf(name: string): string {
    return join(this.root, name);
  }

  async add(name: string, options: { peers?: string[]; secret?: string; dir?: string; fileSystem?: SyncNodeOptions['fileSystem'] } = {}): Promise<TestNode> {
    const dir = options.dir ?? this.dirOf(name);
    const node = createSyncNode({
      dir,
      nodeId: name,
      secret: options.secret ?? 'test-secret',
      listen: this.kind === 'ws' ? { host: '127.0.0.1', port: this.nodes.get(name)?.url ? Number(new URL(this.nodes.get(name)!.url).port) : 0 } : null,
      quietPeriodMs: 10,
      limits: { retryDelayMs: 200 },
      ...(this.kind === 'memory' ? { createTransport: (nodeId: string) => this.network.createTransport({ nodeId, secret: options.secret ?? 'test-secret' }) } : {}),
      ...this.extra,
      ...(options.fileSystem ? { fileSystem: options.fileSystem } : {}),
    });
    await node.start();
    const address = node.address();
    const url = this.kind === 'ws' ? `ws://127.0.0.1:${address!.port}` : `mem://${name}`;
    const entry: TestNode = { name, dir, node, url };
    this.nodes.set(name, entry);
    for (const peer of options.peers ?? []) node.addPeer(this.nodes.get(peer)?.url ?? peer);
    return entry;
  }

  /** A full mesh of `names`, each dialing the ones started before it. */
  async mesh(names: string[]): Promise<TestNode[]> {
    const started: TestNode[] = [];
    for (const name of names) started.push(await this.add(name, { peers: started.map((n) => n.name) }));
    await waitFor(() => started.every((n) => n.node.status().peers.length === names.length - 1), 'a connected mesh');
    return started;
  }

  get(name: string): TestNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  async stop(name: string): Promise<void> {
    await this.get(name).node.stop();
  }

  /** Starts a stopped node again on the same folder, state and port, dialing `peers`. */
  async restart(name: string, peers: string[], options: { fileSystem?: SyncNodeOptions['fileSystem'] } = {}): Promise<TestNode> {
    const previous = this.get(name);
    const node = createSyncNode({
      dir: previous.dir,
      nodeId: name,
      secret: 'test-secret',
      listen: this.kind === 'ws' ? { host: '127.0.0.1', port: Number(new URL(previous.url).port) } : null,
      quietPeriodMs: 10,
      limits: { retryDelayMs: 200 },
      ...(this.kind === 'memory' ? { createTransport: (nodeId: string) => this.network.createTransport({ nodeId, secret: 'test-secret' }) } : {}),
      ...(options.fileSystem ? { fileSystem: options.fileSystem } : {}),
      ...this.extra,
    });
    await node.start();
    const entry = { ...previous, node };
    this.nodes.set(name, entry);
    for (const peer of peers) node.addPeer(this.get(peer).url);
    return entry;
  }

  async converged(names: string[] = [...this.nodes.keys()]): Promise<boolean> {
    return treesEqual(names.map((name) => this.get(name).dir));
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.node.stop().catch(() => {})));
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}
