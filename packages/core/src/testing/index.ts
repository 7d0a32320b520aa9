export { ManualClock } from './manual-clock';
export { SeededRandom } from './seeded-random';
export { MemoryFileSystem, MemoryFsError, hashBytes } from './memory-file-system';
export type { MemoryFileSystemOptions, MemoryFsChange, TreeEntry, VisibleContent, VisibilityActor } from './memory-file-system';
export { SimNetwork } from './sim-network';
export { Simulator, runSimulation, minimizeSimulation, formatFailure, conflictBase } from './simulator';
export type { SimulationOptions, SimulationResult } from './simulator';
