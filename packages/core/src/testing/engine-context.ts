import { IgnoreRules } from '@sync/watcher';
import { BusyPaths } from '../busy-paths';
import type { EngineContext } from '../context';
import { Emitter } from '../emitter';
import type { SyncEvents } from '../events';
import { Folder } from '../folder';
import type { IndexJournal } from '../journal';
import { LocalIndex } from '../local-index';
import type { Clock, FileSystem } from '../ports';
import { silentLogger } from '../ports';
import { SeededRandom } from './seeded-random';

/**
 * The engine's shared context over `fs` (folder `/data`, state `/state`) with an empty index whose
 * journal keeps nothing, for unit tests of one part. Not part of the public testing kit.
 */
export function engineContextOn(fs: FileSystem, clock: Clock): EngineContext {
  const index = new LocalIndex(new Map(), { append() {} } as unknown as IndexJournal, 'idx-00000001');
  const ignoreRules = IgnoreRules.fromText('');
  return {
    nodeId: 'n1',
    fs,
    folder: new Folder(fs, '/data', '/state'),
    index,
    clock,
    random: new SeededRandom(1),
    logger: silentLogger,
    events: new Emitter<SyncEvents>(),
    conflictPolicy: 'keep-both',
    counters: { bytesReceived: 0, bytesSent: 0, bytesReused: 0, blocksRequested: 0, recordsReceived: 0, filesSynced: 0, conflicts: 0, errors: 0 },
    busy: new BusyPaths(),
    journalFlush: () => Promise.resolve(),
    ignoreRules,
    isIgnored: (path, isDirectory) => ignoreRules.isIgnored(path, isDirectory),
  };
}
