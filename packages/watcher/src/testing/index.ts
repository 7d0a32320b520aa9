export { ManualWatcher } from './manual-watcher';
