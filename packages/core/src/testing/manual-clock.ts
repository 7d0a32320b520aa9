import type { Clock } from '../ports';

interface Timer {
  at: number;
  order: number;
  callback: () => void;
}

/** A clock that moves only when told to: timers fire in time order during `advance`. */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<Timer>();
  private order = 0;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Timer = { at: this.current + Math.max(0, ms), order: this.order++, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  /** Moves time forward by `ms`, firing every timer that comes due, earliest first. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      this.timers.delete(next);
      this.current = next.at;
      next.callback();
    }
    this.current = until;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}
