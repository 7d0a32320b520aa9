export { createMemoryNetwork } from './memory-network';
export type { MemoryNetwork, MemoryNetworkOptions, MemoryTransportOptions } from './memory-network';
export { createMemoryPair } from './memory-socket';
export type { MemoryPairOptions, MemorySocket } from './memory-socket';
