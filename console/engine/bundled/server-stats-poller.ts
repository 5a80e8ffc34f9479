import type { ServerStats } from '../../../target-server/contract/wire.ts';
import type { AdminApi } from './admin-client.ts';

/**
 * Keeps the bundled server's latest `/stats` for the next snapshot. Polled once per
 * snapshot without waiting for it; a failed poll keeps the last figures and says why.
 */
export class ServerStatsPoller {
  latest: ServerStats | null = null;
  error: string | null = null;
  private isStopped = false;

  constructor(private readonly admin: AdminApi | null) {}

  poll(): void {
    if (!this.admin || this.isStopped) return;
    void this.admin.stats().then((result) => {
      if (result.ok) this.latest = result.value;
      this.error = result.ok ? null : result.message;
    });
  }

  /** No more polls: the server is going away with the run. */
  stop(): void {
    this.isStopped = true;
  }
}
