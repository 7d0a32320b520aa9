import { describe, expect, it } from 'vitest';
import { WatcherError } from './errors';
import { IgnoreRules } from './ignore-rules';
import { RulesGate } from './rules-gate';
import type { GateTimers, PathEvent } from './rules-gate';

interface Harness {
  gate: RulesGate;
  delivered: string[];
  errors: string[];
  /** What happened, in order: deliveries and calls of `rulesChanged`. */
  trace: string[];
  /** Fires the settle timer, lets the reload start, then resolves its load with this rule text (or fails it with an error). */
  finishLoad: (result: string | Error) => Promise<void>;
  pendingLoads: () => number;
  /** Fires the settle timer, if armed; returns how many fired. */
  quiet: () => number;
}

function harness(eventsBufferedMax = 100): Harness {
  const delivered: string[] = [];
  const errors: string[] = [];
  const trace: string[] = [];
  const loads: Array<(result: string | Error) => void> = [];
  const armed = new Map<number, () => void>();
  let nextTimer = 0;
  const timers: GateTimers = {
    set: (callback) => {
      armed.set(++nextTimer, callback);
      return nextTimer;
    },
    clear: (handle) => armed.delete(handle as number),
  };
  /** The ignore file has been quiet for the settle time: the armed timer fires. */
  const quiet = (): number => {
    const callbacks = [...armed.values()];
    armed.clear();
    for (const callback of callbacks) callback();
    return callbacks.length;
  };
  const loadRules = (): Promise<IgnoreRules> =>
    new Promise((resolve, reject) => {
      loads.push((result) => (result instanceof Error ? reject(result) : resolve(IgnoreRules.fromText(result))));
    });
  const gate = new RulesGate(
    { ignoredPaths: ['.sync'], ignoreFileName: '.syncignore' },
    {
      deliver: (event: PathEvent) => {
        const line = `${event.type} ${event.path}`;
        delivered.push(line);
        trace.push(line);
      },
      error: (error: WatcherError) => errors.push(error.code),
      rulesChanged: async () => {
        trace.push('rulesChanged');
      },
    },
    { loadRules, eventsBufferedMax, settleMs: 50, timers },
  );
  gate.begin('/root', IgnoreRules.fromText('*.tmp\n'));
  const finishLoad = async (result: string | Error): Promise<void> => {
    quiet();
    await settle();
    const load = loads.shift();
    if (load === undefined) throw new Error('no load pending');
    load(result);
  };
  return { gate, delivered, errors, trace, finishLoad, quiet, pendingLoads: () => loads.length };
}

async function settle(): Promise<void> {
  for (let turn = 0; turn < 10; turn += 1) await Promise.resolve();
}

describe('RulesGate', () => {
  it('delivers what neither ignoredPaths nor the rules exclude, judging directories as such', () => {
    const { gate, delivered } = harness();
    gate.begin('/root', IgnoreRules.fromText('*.tmp\nbuild/\n'));
    for (const event of [
      { type: 'add', path: 'a.txt' },
      { type: 'add', path: 'a.tmp' },
      { type: 'add', path: '.sync/index' },
      { type: 'addDir', path: 'build' },
      { type: 'add', path: 'build' },
    ] as const) {
      gate.route(event);
    }
    expect(delivered).toEqual(['add a.txt', 'add build']);
  });

  it('never prunes the ignore file, even when it ignores itself, but does not report it then', () => {
    const { gate } = harness();
    gate.begin('/root', IgnoreRules.fromText('.syncignore\n'));
    expect(gate.isPruned('.syncignore', false)).toBe(false);
    expect(gate.isPruned('.sync', true)).toBe(true);
    expect(gate.isPruned('.sync/tmp/x', false)).toBe(true);
  });

  it('holds events during a reload, lets the watcher follow new rules first, then judges them by the new rules', async () => {
    const { gate, trace, finishLoad } = harness();
    gate.route({ type: 'change', path: '.syncignore' });
    gate.route({ type: 'add', path: 'b.tmp' });
    gate.route({ type: 'add', path: 'c.log' });
    expect(trace).toEqual([]);
    await finishLoad('*.log\n');
    await settle();
    expect(trace).toEqual(['rulesChanged', 'change .syncignore', 'add b.tmp']);
  });

  it('reads the ignore file once its events stop, so a save seen half-way (truncated, then written) is never applied', async () => {
    const { gate, delivered, trace, quiet, pendingLoads, finishLoad } = harness();
    // A save in place: the truncate's event, an event of another path, the write's event.
    gate.route({ type: 'change', path: '.syncignore' });
    gate.route({ type: 'add', path: 'late.log' });
    gate.route({ type: 'change', path: '.syncignore' });
    await settle();
    // Nothing read and nothing delivered while the file may still be changing.
    expect(pendingLoads()).toBe(0);
    expect(delivered).toEqual([]);
    // The second event restarted the wait: one timer fires, one read.
    expect(quiet()).toBe(1);
    await settle();
    expect(pendingLoads()).toBe(1);
    await finishLoad('.syncignore\n*.log\n');
    await settle();
    expect(trace).toEqual(['rulesChanged']);
    expect(pendingLoads()).toBe(0);
  });

  it('does not call rulesChanged when the text is unchanged, and keeps the old rules when the file cannot be read', async () => {
    const { gate, trace, errors, finishLoad } = harness();
    gate.route({ type: 'change', path: '.syncignore' });
    await finishLoad('*.tmp\n');
    await settle();
    gate.route({ type: 'change', path: '.syncignore' });
    gate.route({ type: 'add', path: 'd.tmp' });
    await finishLoad(new WatcherError('IGNORE_FILE_UNREADABLE', 'simulated'));
    await settle();
    expect(trace).toEqual(['change .syncignore', 'change .syncignore']);
    expect(errors).toEqual(['IGNORE_FILE_UNREADABLE']);
  });

  it('drops the buffer with EVENTS_DROPPED when it overflows, and keeps buffering after', async () => {
    const { gate, delivered, errors, finishLoad } = harness(3);
    gate.route({ type: 'change', path: '.syncignore' });
    // The ignore file's event, a and b fill the buffer; c drops them all.
    for (const name of ['a', 'b', 'c', 'd']) gate.route({ type: 'add', path: name });
    expect(errors).toEqual(['EVENTS_DROPPED']);
    await finishLoad('*.tmp\n');
    await settle();
    expect(delivered).toEqual(['add c', 'add d']);
  });

  it('delivers nothing after stop(), buffered or new', async () => {
    const { gate, delivered, trace, pendingLoads } = harness();
    gate.route({ type: 'change', path: '.syncignore' });
    gate.route({ type: 'add', path: 'a.txt' });
    gate.stop();
    gate.route({ type: 'add', path: 'b.txt' });
    await settle();
    // The reload notices the stop before it even reads the file.
    expect(pendingLoads()).toBe(0);
    expect(delivered).toEqual([]);
    expect(trace).toEqual([]);
  });
});
