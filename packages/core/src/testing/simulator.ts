import { ManualWatcher } from '@sync/watcher/testing';
import { createSyncNode } from '../sync-node';
import type { EngineLimits, SyncNode } from '../sync-node';
import type { Clock } from '../ports';
import { ManualClock } from './manual-clock';
import { SeededRandom } from './seeded-random';
import { MemoryFileSystem, hashBytes } from './memory-file-system';
import type { TreeEntry } from './memory-file-system';
import { SimNetwork } from './sim-network';
import { sameMtime } from '../record';

/*
 * The deterministic simulator (FoundationDB's simulation, TigerBeetle's VOPR): N engines in one
 * process over MemoryFileSystem, a simulator-driven network and one manual clock. A seed draws a
 * plan of steps (user edits, partitions, cuts, crashes, restarts, clock skew) and, separately,
 * every scheduling choice (which frame is delivered next, how far time moves). At the end the
 * network heals, every node runs, deletes a node held at start-up are confirmed once all is quiet,
 * and once nothing moves the invariants are checked.
 *
 * Remaining nondeterminism, not rewritten here: the engine hops through setImmediate (index
 * flush, pull passes), which the simulator follows by settling the event loop between choices;
 * since nothing else runs in the process that order is reproducible. `SyncNode.stop()` races a
 * real 3 s timer against the puller going idle; the puller goes idle first in every schedule
 * seen so far (its requests are rejected when links drop).
 */

export interface SimulationOptions {
  seed: number;
  /** Default 3. */
  nodes?: number;
  /** Steps in the plan; default 40. */
  steps?: number;
  /** Replays only these step indices of the seed's plan (for minimising). */
  only?: ReadonlySet<number>;
  /** Engine limits for every node. */
  limits?: Partial<EngineLimits>;
  /** Called with each trace line as it happens. */
  onTrace?: (line: string) => void;
  /** Also traces what the engines do (syncs, conflicts, errors). */
  verbose?: boolean;
  /**
   * Users also create, retarget and replace symlinks. Off by default so that a seed's plan, and
   * with it every regression seed, stays what it was before links were added.
   */
  symlinks?: boolean;
}

export interface SimulationResult {
  seed: number;
  ok: boolean;
  failures: string[];
  trace: string[];
  /** Indices of the plan steps that ran. */
  steps: number[];
  /** The `npm run sim` command that runs this seed again, with the same plan and engine options. */
  replay: string;
  stats: { framesDelivered: number; simulatedMs: number; engineErrors: number; crashes: number; conflicts: number };
}

const dirNames = ['a', 'b', 'a/c', 'b/d', 'e', 'a/e'];
const fileDirs = ['', '', 'a', 'b', 'a/c', 'b/d'];
const fileNames = ['f0.txt', 'f1.txt', 'f2', 'f3.md', 'f4', 'f5.txt'];
/** Where the user's links point: a sibling, a directory, out of the folder, an absolute path. */
const linkTargets = ['f0.txt', 'a/c', '../outside', '/etc/passwd'];
const startMs = Date.UTC(2024, 0, 1);
const quietWindowMs = 15_000;
const quiescenceLimitMs = 15 * 60_000;
/**
 * Frames delivered while the clock stands still. The schedule moves time only when no frame is in
 * flight, so a request loop (a pull retried at once, forever) would otherwise spin at one instant
 * and never reach a simulated deadline. Busy schedules deliver at most a few hundred.
 */
const framesPerInstantMax = 20_000;

/** The engines keep a frame loop going without time moving: reported as a quiescence failure. */
class FrameLoopError extends Error {}

interface PathPick {
  dir: number;
  name: number;
}

interface ContentSpec {
  id: number;
  size: number;
}

type Action =
  | { kind: 'write'; node: number; path: PathPick; content: ContentSpec }
  | { kind: 'write-many'; nodes: number[]; path: PathPick; contents: ContentSpec[] }
  | { kind: 'append'; node: number; pick: number; content: ContentSpec }
  | { kind: 'delete'; node: number; pick: number; dirs: boolean }
  | { kind: 'rename'; node: number; pick: number; dirs: boolean; to: PathPick; toDir: number }
  | { kind: 'mkdir'; node: number; dir: number }
  | { kind: 'chmod'; node: number; pick: number }
  | { kind: 'touch'; node: number; pick: number; ageMs: number }
  | { kind: 'symlink'; node: number; path: PathPick; target: number }
  | { kind: 'partition'; groups: number[][] }
  | { kind: 'heal' }
  | { kind: 'cut'; a: number; b: number }
  | { kind: 'crash'; node: number; restart: boolean }
  | { kind: 'restart'; node: number }
  | { kind: 'stop'; node: number }
  | { kind: 'start'; node: number }
  | { kind: 'skew'; node: number; offsetMs: number }
  | { kind: 'wait'; ms: number };

interface Step {
  action: Action;
  /** Scheduling rounds after the step. */
  rounds: number;
}

class SkewedClock implements Clock {
  dead = false;
  constructor(
    private readonly base: ManualClock,
    private readonly offset: () => number,
  ) {}

  now(): number {
    return this.base.now() + this.offset();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    // A crashed process runs none of its timers.
    return this.base.setTimeout(() => {
      if (!this.dead) callback();
    }, ms);
  }

  clearTimeout(handle: unknown): void {
    this.base.clearTimeout(handle);
  }
}

interface SimNode {
  index: number;
  id: string;
  root: string;
  fs: MemoryFileSystem;
  offsetMs: number;
  engine: SyncNode | null;
  watcher: ManualWatcher | null;
  clock: SkewedClock | null;
  incarnation: number;
  /** The tree as the engine last saw it, while the node is down (null while up or never started). */
  treeWhenDown: Record<string, TreeEntry> | null;
}

/**
 * A chain of moves of one file on a down node: where it began, and the expectations the first
 * move dropped there.
 */
interface MoveChain {
  home: string;
  dropped: Expectation[];
}

function moveKey(node: SimNode, path: string, hash: string): string {
  return `${node.id}\0${path}\0${hash}`;
}

function supersededKey(hash: string, path: string): string {
  return `${hash}\0${conflictBase(path)}`;
}

interface Expectation {
  hash: string;
  path: string;
  origin: string;
}

function pickWeighted<T>(random: SeededRandom, table: [number, T][]): T {
  const total = table.reduce((sum, [weight]) => sum + weight, 0);
  let roll = random.float() * total;
  for (const [weight, value] of table) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return table[table.length - 1]![1];
}

/** The plan a seed stands for: drawn up front so steps can be dropped when minimising. */
function makePlan(seed: number, nodeCount: number, stepCount: number, symlinks: boolean): Step[] {
  const random = new SeededRandom(seed);
  let contentId = 0;
  const node = (): number => random.int(nodeCount);
  const path = (): PathPick => ({ dir: random.int(fileDirs.length), name: random.int(fileNames.length) });
  const content = (): ContentSpec => {
    contentId++;
    const big = random.float() < 0.08;
    return { id: contentId, size: big ? 130_000 + random.int(200_000) : 1 + random.int(3000) };
  };
  const severalNodes = (): number[] => {
    const all = Array.from({ length: nodeCount }, (_, i) => i).sort(() => random.float() - 0.5);
    return all.slice(0, 2 + random.int(Math.max(1, nodeCount - 1)));
  };
  const steps: Step[] = [];
  for (let i = 0; i < stepCount; i++) {
    const kind = pickWeighted(random, [
      [26, 'write'],
      [6, 'write-many'],
      [4, 'write-same'],
      [8, 'append'],
      [7, 'delete'],
      [7, 'rename'],
      [3, 'mkdir'],
      [2, 'chmod'],
      [2, 'touch'],
      ...(symlinks ? [[2, 'symlink'] as [number, string]] : []),
      [4, 'partition'],
      [4, 'heal'],
      [4, 'cut'],
      [4, 'crash'],
      [3, 'restart'],
      [2, 'stop'],
      [3, 'start'],
      [3, 'skew'],
      [3, 'wait'],
    ] as [number, string][]);
    let action: Action;
    switch (kind) {
      case 'write':
        action = { kind: 'write', node: node(), path: path(), content: content() };
        break;
      case 'write-many': {
        const nodes = severalNodes();
        action = { kind: 'write-many', nodes, path: path(), contents: nodes.map(() => content()) };
        break;
      }
      case 'write-same': {
        const nodes = severalNodes();
        const same = content();
        action = { kind: 'write-many', nodes, path: path(), contents: nodes.map(() => same) };
        break;
      }
      case 'append':
        action = { kind: 'append', node: node(), pick: random.float(), content: content() };
        break;
      case 'delete':
        action = { kind: 'delete', node: node(), pick: random.float(), dirs: random.float() < 0.25 };
        break;
      case 'rename':
        action = { kind: 'rename', node: node(), pick: random.float(), dirs: random.float() < 0.3, to: path(), toDir: random.int(dirNames.length) };
        break;
      case 'mkdir':
        action = { kind: 'mkdir', node: node(), dir: random.int(dirNames.length) };
        break;
      case 'chmod':
        action = { kind: 'chmod', node: node(), pick: random.float() };
        break;
      case 'touch':
        action = { kind: 'touch', node: node(), pick: random.float(), ageMs: random.int(86_400_000) };
        break;
      case 'symlink':
        action = { kind: 'symlink', node: node(), path: path(), target: random.int(linkTargets.length) };
        break;
      case 'partition': {
        const groups: number[][] = [[], []];
        for (let n = 0; n < nodeCount; n++) groups[random.int(2)]!.push(n);
        action = { kind: 'partition', groups };
        break;
      }
      case 'heal':
        action = { kind: 'heal' };
        break;
      case 'cut': {
        const a = node();
        action = { kind: 'cut', a, b: (a + 1 + random.int(nodeCount - 1)) % nodeCount };
        break;
      }
      case 'crash':
        action = { kind: 'crash', node: node(), restart: random.float() < 0.6 };
        break;
      case 'restart':
        action = { kind: 'restart', node: node() };
        break;
      case 'stop':
        action = { kind: 'stop', node: node() };
        break;
      case 'start':
        action = { kind: 'start', node: node() };
        break;
      case 'skew':
        action = { kind: 'skew', node: node(), offsetMs: Math.round((random.float() - 0.5) * 240_000) };
        break;
      default:
        action = { kind: 'wait', ms: 500 + random.int(35_000) };
    }
    steps.push({ action, rounds: random.int(60) });
  }
  return steps;
}

/** Deterministic bytes of one user write; the header makes every write's content distinct. */
function contentBytes(seed: number, spec: ContentSpec): Uint8Array {
  const header = new TextEncoder().encode(`write ${spec.id}\n`);
  const data = new Uint8Array(Math.max(spec.size, header.byteLength));
  data.set(header);
  let state = (seed * 2654435761 + spec.id * 40503) >>> 0 || 1;
  for (let i = header.byteLength; i < data.byteLength; i++) {
    // Runs of a repeated byte give blocks in common across files, as real files have.
    if (i % 4096 === 0 || i === header.byteLength) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
    }
    data[i] = (state + ((i * 31) & 0xff)) & 0xff;
  }
  return data;
}

const conflictSuffix = /\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9_-]{1,64}(?=\.[^./]*$|$)/;

/** A path with every conflict marker taken out: a conflict copy and its original share it. */
export function conflictBase(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      let current = segment;
      while (conflictSuffix.test(current)) current = current.replace(conflictSuffix, '');
      return current;
    })
    .join('/');
}

export class Simulator {
  private readonly nodes: SimNode[] = [];
  private readonly clock = new ManualClock(startMs);
  private readonly schedule: SeededRandom;
  private readonly network: SimNetwork;
  private readonly trace: string[] = [];
  private readonly failures: string[] = [];
  private readonly expectations: Expectation[] = [];
  /** By `node path hash`: a down node's file its user moved to `path`. */
  private readonly movedWhileDown = new Map<string, MoveChain>();
  /** `hash base` of expectations a user knowingly superseded (wrote over, deleted): never restored. */
  private readonly superseded = new Set<string>();
  private readonly userContents = new Set<string>();
  private readonly userModes = new Set<number>([0o644, 0o755]);
  private engineErrors = 0;
  private crashes = 0;
  private instantMs = -1;
  private framesThisInstant = 0;
  private conflicts = 0;
  private readonly seed: number;

  constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed;
    this.schedule = new SeededRandom((options.seed ^ 0x5bd1e995) >>> 0);
    this.network = new SimNetwork(this.schedule);
  }

  async run(): Promise<SimulationResult> {
    const nodeCount = this.options.nodes ?? 3;
    const plan = makePlan(this.seed, nodeCount, this.options.steps ?? 40, this.options.symlinks ?? false);
    const ran: number[] = [];
    for (let i = 0; i < nodeCount; i++) this.nodes.push(this.makeNode(i));
    try {
      for (const node of this.nodes) await this.start(node);
      this.network.connectAll();
      for (const [index, step] of plan.entries()) {
        if (this.options.only && !this.options.only.has(index)) continue;
        ran.push(index);
        await this.perform(index, step.action);
        await this.pump(step.rounds);
      }
      this.log('end: heal, start every node, wait for quiescence');
      this.network.heal();
      for (const node of this.nodes) if (!node.engine) await this.start(node);
      this.network.connectAll();
      let quiet = true;
      if (this.nodes.some((node) => node.engine?.status().heldDeletes)) {
        // A node holding deletes must come to rest too; then the operator confirms them.
        quiet = await this.quiesce();
        if (quiet) for (const node of this.nodes) await this.confirmHeldDeletes(node);
        if (quiet) quiet = await this.quiesce();
      } else quiet = await this.quiesce();
      if (quiet) this.checkInvariants();
    } catch (error) {
      if (error instanceof FrameLoopError) this.failures.push(error.message);
      else this.failures.push(`simulator error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    } finally {
      // A fresh frame budget, so the engines can be stopped after a frame loop too.
      this.instantMs = -1;
      for (const node of this.nodes) await this.stop(node).catch(() => {});
    }
    return {
      seed: this.seed,
      ok: this.failures.length === 0,
      failures: this.failures,
      trace: this.trace,
      steps: ran,
      replay: replayCommand(this.seed, plan.length, this.options),
      stats: {
        framesDelivered: this.network.framesDelivered,
        simulatedMs: this.clock.now() - startMs,
        engineErrors: this.engineErrors,
        crashes: this.crashes,
        conflicts: this.conflicts,
      },
    };
  }

  // ---- nodes ----

  private makeNode(index: number): SimNode {
    const root = `/sim/n${index}`;
    const node: SimNode = { index, id: `n${index}`, root, fs: null as unknown as MemoryFileSystem, offsetMs: 0, engine: null, watcher: null, clock: null, incarnation: 0, treeWhenDown: null };
    node.fs = new MemoryFileSystem({
      now: () => this.clock.now() + node.offsetMs,
      isSynced: (path) => path.startsWith(`${root}/`) && !path.startsWith(`${root}/.sync/`) && path !== `${root}/.sync`,
    });
    node.fs.userMkdirp(root);
    node.fs.onChange((change) => {
      if (!change.path.startsWith(`${root}/`)) return;
      const rel = change.path.slice(root.length + 1);
      if (rel === '.sync' || rel.startsWith('.sync/')) return;
      node.watcher?.emit({ type: change.kind, path: rel });
    });
    return node;
  }

  private async start(node: SimNode): Promise<void> {
    node.incarnation++;
    const clock = new SkewedClock(this.clock, () => node.offsetMs);
    const watcher = new ManualWatcher();
    const engine = createSyncNode({
      dir: node.root,
      nodeId: node.id,
      secret: '',
      fileSystem: node.fs.mount(),
      clock,
      random: new SeededRandom((this.seed * 7919 + node.index * 104_729 + node.incarnation * 15_485_863) >>> 0),
      createTransport: (nodeId) => this.network.createTransport(nodeId),
      createWatcher: () => watcher,
      ...(this.options.limits ? { limits: this.options.limits } : {}),
    });
    engine.on('error', (error) => {
      this.engineErrors++;
      if (this.options.verbose) this.log(`  ${node.id} error ${error.message}`);
    });
    engine.on('conflict', (c) => {
      this.conflicts++;
      if (this.options.verbose) this.log(`  ${node.id} conflict ${c.kind} ${c.path} winner ${c.winner} loser ${c.loser}${c.copyPath ? ` copy ${c.copyPath}` : ''}`);
    });
    if (this.options.verbose) {
      engine.on('file-synced', (e) => this.log(`  ${node.id} synced ${e.op} ${e.path} (${e.type}) from ${e.fromPeer}`));
      engine.on('local-change', (e) => this.log(`  ${node.id} local ${e.op} ${e.path} (${e.type})`));
    }
    node.clock = clock;
    node.watcher = watcher;
    node.engine = engine;
    node.treeWhenDown = null;
    for (const key of this.movedWhileDown.keys()) if (key.startsWith(`${node.id}\0`)) this.movedWhileDown.delete(key);
    try {
      await this.drive(engine.start(), `start ${node.id}`);
    } catch (error) {
      this.failures.push(`${node.id} failed to start: ${error instanceof Error ? error.message : String(error)}`);
      clock.dead = true;
      node.engine = null;
      node.watcher = null;
      this.network.kill(node.id);
      throw error;
    }
  }

  private async stop(node: SimNode): Promise<void> {
    const engine = node.engine;
    if (!engine) return;
    node.engine = null;
    node.watcher = null;
    await this.drive(engine.stop(), `stop ${node.id}`);
    if (node.clock) node.clock.dead = true;
    node.treeWhenDown = this.tree(node);
  }

  /**
   * A node holds deletes found at start-up (a mass delete while it was down) until an operator
   * confirms them; until then its tree differs by design. The operator answers once all is quiet.
   */
  private async confirmHeldDeletes(node: SimNode): Promise<void> {
    const held = node.engine?.status().heldDeletes;
    if (!node.engine || !held) return;
    this.log(`${node.id} confirm-deletes (${held.count} held: ${held.reason})`);
    await this.drive(node.engine.confirmDeletes(), `confirm deletes on ${node.id}`);
  }

  private async crash(node: SimNode): Promise<void> {
    this.crashes++;
    node.fs.crash();
    node.treeWhenDown = this.tree(node);
    this.network.kill(node.id);
    if (node.clock) node.clock.dead = true;
    const engine = node.engine;
    node.engine = null;
    node.watcher = null;
    // The old process is gone; its teardown only meets a dead filesystem view.
    if (engine) await this.drive(engine.stop().catch(() => {}), `reap ${node.id}`);
  }

  // ---- the schedule ----

  private log(line: string): void {
    const entry = `t=${String(this.clock.now() - startMs).padStart(7)}ms ${line}`;
    this.trace.push(entry);
    this.options.onTrace?.(entry);
  }

  private signature(): number {
    let sum = this.network.framesSent + this.network.framesDelivered + this.clock.pendingTimers;
    for (const node of this.nodes) sum += node.fs.operations;
    return sum;
  }

  /** Lets the engines run until nothing changes across two event-loop turns. */
  private async settle(): Promise<void> {
    let last = -1;
    for (let i = 0; i < 10_000; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const now = this.signature();
      if (now === last) return;
      last = now;
    }
    throw new Error('the engines never settled (a setImmediate loop?)');
  }

  /** Delivers one frame in flight, if any; fails the run when frames flow forever at one instant. */
  private deliverOne(): boolean {
    const now = this.clock.now();
    if (now !== this.instantMs) {
      this.instantMs = now;
      this.framesThisInstant = 0;
    }
    if (!this.network.deliverOne()) return false;
    if (++this.framesThisInstant > framesPerInstantMax) {
      throw new FrameLoopError(
        `invariant 5 (quiescence): ${framesPerInstantMax} frames delivered at t=${now - startMs}ms without time moving (a request or retry loop); the last: ${this.network.recentFrames.join(', ')}`,
      );
    }
    return true;
  }

  /** Runs the world until `promise` settles: frames are delivered and time moves meanwhile. */
  private async drive<T>(promise: Promise<T>, what: string): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    tracked.catch(() => {});
    const deadline = this.clock.now() + 10 * 60_000;
    for (;;) {
      await this.settle();
      if (done) return tracked;
      if (this.clock.now() > deadline) throw new Error(`${what} did not finish in 10 simulated minutes`);
      if (!this.deliverOne()) this.clock.advance(5);
    }
  }

  private async pump(rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      await this.settle();
      const roll = this.schedule.float();
      if (roll < 0.04) this.network.connectAll();
      else if (this.network.pendingFrames > 0 && roll < 0.8) this.deliverOne();
      else this.clock.advance(1 + this.schedule.int(roll > 0.98 ? 3000 : 25));
    }
    await this.settle();
  }

  private async quiesce(): Promise<boolean> {
    let lastSignature = -1;
    let quietSince = this.clock.now();
    const deadline = this.clock.now() + quiescenceLimitMs;
    for (;;) {
      await this.settle();
      if (this.network.pendingFrames > 0) {
        this.deliverOne();
        continue;
      }
      let activity = this.network.framesSent;
      for (const node of this.nodes) activity += node.fs.mutations;
      if (activity !== lastSignature) {
        lastSignature = activity;
        quietSince = this.clock.now();
      } else if (this.clock.now() - quietSince >= quietWindowMs) {
        this.log(`quiescent after ${this.network.framesDelivered} frames`);
        return true;
      }
      if (this.clock.now() > deadline) {
        this.failures.push(`invariant 5 (quiescence): still sending or writing after ${quiescenceLimitMs / 60_000} simulated minutes; the last frames: ${this.network.recentFrames.join(', ')}`);
        return false;
      }
      this.clock.advance(250);
    }
  }

  // ---- steps ----

  private pathOf(pick: PathPick): string {
    const dir = fileDirs[pick.dir]!;
    const name = fileNames[pick.name]!;
    return dir ? `${dir}/${name}` : name;
  }

  private tree(node: SimNode): Record<string, TreeEntry> {
    return node.fs.tree(node.root, ['.sync']);
  }

  private existing(node: SimNode, pick: number, type: 'file' | 'dir'): string | null {
    const paths = Object.entries(this.tree(node))
      .filter(([, entry]) => entry.type === type)
      .map(([path]) => path);
    return paths.length ? paths[Math.floor(pick * paths.length)]! : null;
  }

  /** A user on `node` replaced or removed what it saw at `path` (and below it). */
  private supersede(node: SimNode, path: string): void {
    const seen = Object.entries(node.fs.tree(node.root, ['.sync'])).filter(([p, entry]) => entry.type === 'file' && (p === path || p.startsWith(`${path}/`)));
    for (const [p, entry] of seen) {
      this.dropExpectation(entry.hash!, p);
    }
  }

  private userWrite(node: SimNode, path: string, spec: ContentSpec, label: string): string {
    const data = contentBytes(this.seed, spec);
    const hash = hashBytes(data);
    const abs = `${node.root}/${path}`;
    try {
      const before = this.tree(node);
      node.fs.userWrite(abs, data);
      const old = before[path];
      if (old?.hash) this.dropExpectation(old.hash, path);
    } catch (error) {
      return `${label} ${path}: skipped (${(error as { code?: string }).code ?? String(error)})`;
    }
    this.userContents.add(hash);
    this.expectations.push({ hash, path, origin: `${node.id} ${label} w${spec.id}` });
    return `${label} ${path} (w${spec.id}, ${data.byteLength} B)`;
  }

  /** The chain of moves a down node's file at `path` is on, begun here if none. */
  private takeMoveChain(node: SimNode, path: string, hash: string): MoveChain {
    const key = moveKey(node, path, hash);
    const chain = this.movedWhileDown.get(key);
    this.movedWhileDown.delete(key);
    if (chain) return chain;
    const base = conflictBase(path);
    return { home: path, dropped: this.expectations.filter((e) => e.hash === hash && conflictBase(e.path) === base) };
  }

  /**
   * A down node's file moved back where its engine last saw it, with the same bytes, mode and
   * mtime: to that engine nothing happened (it cannot tell), so it is no new write; what the first
   * move dropped comes back unless a user has superseded it since. False (and the chain goes on)
   * for any other move.
   */
  private movedBack(node: SimNode, down: Record<string, TreeEntry>, chain: MoveChain, dest: string, entry: TreeEntry): boolean {
    const seen = down[dest];
    if (chain.home === dest && seen !== undefined && seen.hash === entry.hash && seen.mode === entry.mode && seen.mtimeMs === entry.mtimeMs) {
      for (const e of chain.dropped) if (!this.superseded.has(supersededKey(e.hash, e.path))) this.expectations.push(e);
      return true;
    }
    this.movedWhileDown.set(moveKey(node, dest, entry.hash!), chain);
    return false;
  }

  /** `knowingly`: the user wrote over or removed that content; a down node's move is not that yet. */
  private dropExpectation(hash: string, path: string, knowingly = true): void {
    const base = conflictBase(path);
    if (knowingly) this.superseded.add(supersededKey(hash, path));
    for (let i = this.expectations.length - 1; i >= 0; i--) {
      const e = this.expectations[i]!;
      if (e.hash === hash && conflictBase(e.path) === base) this.expectations.splice(i, 1);
    }
  }

  private async perform(index: number, action: Action): Promise<void> {
    const prefix = `#${String(index).padStart(3, '0')}`;
    const node = 'node' in action ? this.nodes[action.node]! : null;
    const who = node ? `${node.id}${node.engine ? '' : '(down)'} ` : '';
    const say = (text: string): void => this.log(`${prefix} ${who}${text}`);
    switch (action.kind) {
      case 'write':
        say(this.userWrite(node!, this.pathOf(action.path), action.content, 'write'));
        return;
      case 'write-many': {
        const path = this.pathOf(action.path);
        const same = action.contents.every((c) => c.id === action.contents[0]!.id);
        for (const [i, n] of action.nodes.entries()) {
          const target = this.nodes[n]!;
          this.log(`${prefix} ${target.id}${target.engine ? '' : '(down)'} ${this.userWrite(target, path, action.contents[i]!, same ? 'same-write' : 'concurrent-write')}`);
        }
        return;
      }
      case 'append': {
        const path = this.existing(node!, action.pick, 'file');
        if (!path) return say('append: no file');
        const abs = `${node!.root}/${path}`;
        const old = this.tree(node!)[path]!;
        const extra = contentBytes(this.seed, action.content);
        node!.fs.userAppend(abs, extra);
        const hash = hashBytes(node!.fs.peek(abs)!);
        this.dropExpectation(old.hash!, path);
        this.userContents.add(hash);
        this.expectations.push({ hash, path, origin: `${node!.id} append w${action.content.id}` });
        return say(`append ${path} (+${extra.byteLength} B, w${action.content.id})`);
      }
      case 'delete': {
        const path = this.existing(node!, action.pick, action.dirs ? 'dir' : 'file') ?? this.existing(node!, action.pick, 'file');
        if (!path) return say('delete: nothing to delete');
        this.supersede(node!, path);
        node!.fs.userRemove(`${node!.root}/${path}`);
        return say(`delete ${path}`);
      }
      case 'rename': {
        const from = this.existing(node!, action.pick, action.dirs ? 'dir' : 'file') ?? this.existing(node!, action.pick, 'file');
        if (!from) return say('rename: nothing to rename');
        const isDir = this.tree(node!)[from]!.type === 'dir';
        const to = isDir ? dirNames[action.toDir]! : this.pathOf(action.to);
        const before = this.tree(node!);
        if (to === from || to.startsWith(`${from}/`) || before[to]?.type === 'dir' || Object.keys(before).some((p) => p !== to && to.startsWith(`${p}/`) && before[p]!.type !== 'dir')) {
          return say(`rename ${from} → ${to}: skipped`);
        }
        const moved = Object.entries(before).filter(([p, e]) => e.type === 'file' && (p === from || p.startsWith(`${from}/`)));
        if (before[to]?.hash) this.dropExpectation(before[to].hash, to);
        const down = node!.engine ? null : node!.treeWhenDown;
        const chains = down ? moved.map(([p, e]) => this.takeMoveChain(node!, p, e.hash!)) : [];
        for (const [p, e] of moved) this.dropExpectation(e.hash!, p, !down);
        node!.fs.userRename(`${node!.root}/${from}`, `${node!.root}/${to}`);
        for (const [i, [p, e]] of moved.entries()) {
          const dest = `${to}${p.slice(from.length)}`;
          if (down && this.movedBack(node!, down, chains[i]!, dest, e)) continue;
          this.expectations.push({ hash: e.hash!, path: dest, origin: `${node!.id} rename ${p}` });
        }
        return say(`rename ${from} → ${to}`);
      }
      case 'mkdir': {
        const dir = dirNames[action.dir]!;
        try {
          node!.fs.userMkdirp(`${node!.root}/${dir}`);
        } catch {
          return say(`mkdir ${dir}: skipped`);
        }
        return say(`mkdir ${dir}`);
      }
      case 'chmod': {
        const path = this.existing(node!, action.pick, 'file');
        if (!path) return say('chmod: no file');
        const mode = this.tree(node!)[path]!.mode === 0o755 ? 0o644 : 0o755;
        node!.fs.userChmod(`${node!.root}/${path}`, mode);
        return say(`chmod ${path} ${mode.toString(8)}`);
      }
      case 'touch': {
        const path = this.existing(node!, action.pick, 'file');
        if (!path) return say('touch: no file');
        const mtimeMs = this.clock.now() + node!.offsetMs - action.ageMs;
        node!.fs.userTouch(`${node!.root}/${path}`, mtimeMs);
        return say(`touch ${path} ${new Date(mtimeMs).toISOString()}`);
      }
      case 'symlink': {
        const path = this.pathOf(action.path);
        const target = linkTargets[action.target]!;
        try {
          node!.fs.userSymlink(`${node!.root}/${path}`, target);
        } catch (error) {
          return say(`symlink ${path}: skipped (${(error as { code?: string }).code ?? String(error)})`);
        }
        return say(`symlink ${path} → ${target}`);
      }
      case 'partition': {
        const groups = action.groups.map((g) => g.map((n) => this.nodes[n]!.id));
        this.network.partition(groups);
        return say(`partition ${groups.map((g) => `[${g.join(' ')}]`).join(' ')}`);
      }
      case 'heal':
        this.network.heal();
        this.network.connectAll();
        return say('heal');
      case 'cut': {
        const a = this.nodes[action.a]!.id;
        const b = this.nodes[action.b]!.id;
        this.network.cut(a, b);
        return say(`cut ${a}–${b}`);
      }
      case 'crash':
        if (!node!.engine) return say('crash: already down');
        say(`crash${action.restart ? ' and restart' : ''}`);
        await this.crash(node!);
        if (action.restart) {
          await this.start(node!);
          this.network.connectAll();
        }
        return;
      case 'restart':
        if (!node!.engine) return say('restart: down');
        say('restart');
        await this.stop(node!);
        await this.start(node!);
        this.network.connectAll();
        return;
      case 'stop':
        if (!node!.engine) return say('stop: already down');
        say('stop');
        return this.stop(node!);
      case 'start':
        if (node!.engine) return say('start: already up');
        say('start');
        await this.start(node!);
        this.network.connectAll();
        return;
      case 'skew':
        node!.offsetMs = action.offsetMs;
        return say(`clock offset ${action.offsetMs} ms`);
      case 'wait':
        say(`wait ${action.ms} ms`);
        for (let waited = 0; waited < action.ms; waited += 250) {
          await this.settle();
          while (this.deliverOne()) await this.settle();
          this.clock.advance(250);
        }
        return;
    }
  }

  // ---- invariants ----

  private checkInvariants(): void {
    const trees = this.nodes.map((node) => this.tree(node));
    // 1. identical trees: paths, types, bytes, modes, file mtimes.
    const first = trees[0]!;
    for (const [i, tree] of trees.entries()) {
      if (i === 0) continue;
      const paths = new Set([...Object.keys(first), ...Object.keys(tree)]);
      const differing = [...paths].sort().filter((p) => !sameEntry(first[p], tree[p]));
      for (const p of differing.slice(0, 5)) {
        this.failures.push(`invariant 1 (identical trees): ${p} is ${describe(first[p])} on n0 but ${describe(tree[p])} on ${this.nodes[i]!.id}`);
      }
    }
    for (const [p, entry] of Object.entries(first)) {
      if (entry.mode !== undefined && entry.type === 'file' && !this.userModes.has(entry.mode)) {
        this.failures.push(`invariant 1 (modes): ${p} has mode ${entry.mode.toString(8)}, which no user set`);
      }
    }
    // 2. no lost write.
    for (const expectation of this.expectations) {
      for (const [i, tree] of trees.entries()) {
        const base = conflictBase(expectation.path);
        const present = Object.entries(tree).some(([p, e]) => e.hash === expectation.hash && conflictBase(p) === base);
        if (!present) {
          const elsewhere = Object.entries(tree).find(([, e]) => e.hash === expectation.hash)?.[0];
          this.failures.push(
            `invariant 2 (no lost write): ${this.nodes[i]!.id} lacks ${expectation.origin} (${expectation.hash.slice(0, 8)}) at ${expectation.path} or a conflict copy${elsewhere ? ` (it is at ${elsewhere})` : ''}`,
          );
        }
      }
    }
    for (const node of this.nodes) {
      // 3. no partial or corrupt file ever visible in the synced folder.
      for (const seen of node.fs.visible) {
        if (seen.actor !== 'user' && !this.userContents.has(seen.hash)) {
          this.failures.push(`invariant 3 (no partial file): ${node.id} showed ${seen.size} B (${seen.hash.slice(0, 8)}) at ${seen.path} after ${seen.actor} ${seen.operation}, content no user wrote`);
        }
      }
      // 4. nothing written outside the synced folder.
      for (const path of node.fs.writtenPaths) {
        if (path !== node.root && !path.startsWith(`${node.root}/`) && path !== '/sim') {
          this.failures.push(`invariant 4 (outside writes): ${node.id} wrote ${path}`);
        }
      }
    }
    for (const error of this.network.protocolErrors) this.failures.push(`protocol: ${error}`);
  }
}

/** Equal entries, file mtimes within the engine's 1 ms (`sameMtime`): what converged means. */
function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const { mtimeMs: aMtimeMs, ...aRest } = a;
  const { mtimeMs: bMtimeMs, ...bRest } = b;
  if (JSON.stringify(aRest) !== JSON.stringify(bRest)) return false;
  return aMtimeMs === undefined || bMtimeMs === undefined ? aMtimeMs === bMtimeMs : sameMtime(aMtimeMs, bMtimeMs);
}

function describe(entry: TreeEntry | undefined): string {
  if (!entry) return 'missing';
  if (entry.type === 'file') return `file ${entry.hash!.slice(0, 8)} ${entry.size} B mode ${entry.mode!.toString(8)} mtime ${entry.mtimeMs}`;
  if (entry.type === 'dir') return `dir mode ${entry.mode!.toString(8)}`;
  return `symlink → ${entry.target}`;
}

export function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  return new Simulator(options).run();
}

/**
 * Drops steps while the schedule still fails (greedy, halving chunks), so a failure comes with a
 * short trace. Costs one replay per try; `budgetMs` bounds it.
 */
export async function minimizeSimulation(options: SimulationOptions, failing: SimulationResult, budgetMs = 60_000): Promise<SimulationResult> {
  const startedAt = Date.now();
  const kind = failureKind(failing.failures[0] ?? '');
  let best = failing;
  let kept = failing.steps;
  for (let chunk = Math.max(1, Math.floor(kept.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let from = 0; from < kept.length && Date.now() - startedAt < budgetMs; ) {
      const candidate = kept.filter((_, i) => i < from || i >= from + chunk);
      const result = await runSimulation({ ...options, only: new Set(candidate) });
      // Only the same kind of failure counts: a shorter trace of another bug would mislead.
      if (!result.ok && result.failures.some((f) => failureKind(f) === kind)) {
        kept = candidate;
        best = result;
      } else from += chunk;
    }
    if (chunk === 1) break;
  }
  return best;
}

function failureKind(failure: string): string {
  return failure.slice(0, failure.indexOf(':'));
}

function replayCommand(seed: number, planLength: number, options: SimulationOptions): string {
  const rescanMs = options.limits?.rescanIntervalMs;
  return [
    `npm run sim -- --seed ${seed} --length ${planLength}`,
    ...(options.symlinks ? ['--symlinks'] : []),
    ...(rescanMs !== undefined ? [`--rescan ${rescanMs}`] : []),
  ].join(' ');
}

export function formatFailure(result: SimulationResult, minimized?: SimulationResult): string {
  const lines = [`simulation seed ${result.seed} failed:`, ...result.failures.slice(0, 20).map((f) => `  ${f}`)];
  const replay = result.replay;
  lines.push(`replay: ${replay}`, 'trace:', ...result.trace.map((t) => `  ${t}`));
  if (minimized && minimized.steps.length < result.steps.length) {
    lines.push(`minimized to steps ${minimized.steps.join(',')} (${replay} --steps ${minimized.steps.join(',')}):`);
    lines.push(...minimized.failures.slice(0, 10).map((f) => `  ${f}`), ...minimized.trace.map((t) => `  ${t}`));
  }
  return lines.join('\n');
}
