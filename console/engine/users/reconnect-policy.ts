import type { ReconnectPolicy } from '../commands.ts';

/**
 * The wait before reconnect attempt `attempt` (0 for the first try after a drop), or null
 * when the policy does not reconnect. Pure: randomness is injected.
 *
 * `expo` doubles from `minMs` up to `maxMs`; jitter `full` draws from [0, d], `equal` from
 * [d/2, d] (AWS's names), `none` waits exactly d, which makes a herd of its own.
 */
export function reconnectDelayMs(
  policy: ReconnectPolicy,
  attempt: number,
  random: () => number = Math.random,
): number | null {
  switch (policy.kind) {
    case 'off':
      return null;
    case 'immediate':
      return 0;
    case 'fixed':
      return policy.delayMs;
    case 'expo': {
      const capped = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(attempt, 30));
      if (policy.jitter === 'full') return random() * capped;
      if (policy.jitter === 'equal') return capped / 2 + random() * (capped / 2);
      return capped;
    }
  }
}

/** The default: exponential backoff with full jitter, the usual fix for a thundering herd. */
export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { kind: 'expo', minMs: 100, maxMs: 5000, jitter: 'full' };
