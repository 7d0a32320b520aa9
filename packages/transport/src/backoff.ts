export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Share of the delay that is randomised, 0..1, so restarted nodes do not redial in lockstep. */
  jitter: number;
}

export const defaultBackoff: Readonly<BackoffOptions> = Object.freeze({ initialMs: 100, maxMs: 5_000, jitter: 0.2 });

/** Delay before redial number `attempt` (0-based): doubling from `initialMs`, capped, jittered. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}
