export { ManualClock } from './manual-clock';
export { SeededRandom } from './seeded-random';
