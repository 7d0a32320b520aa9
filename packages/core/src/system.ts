import { randomBytes } from 'node:crypto';
import type { Clock, Random } from './ports';

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const systemRandom: Random = {
  float: () => Math.random(),
  id: (bytes) => randomBytes(bytes).toString('base64url'),
};
