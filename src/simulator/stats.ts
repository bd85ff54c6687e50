import type { StaOperation } from '../sta/documented-messages.js';
import type { SimulatorStats } from './simulator-options.js';

/** What happened to one request: the status answered, or 'dropped' when the connection was destroyed. */
export type RequestOutcome = number | 'dropped';

/** Request counters behind `GET /_sim/stats`. */
export class StatsCounter {
  private total = 0;
  private readonly byStatus = new Map<string, number>();
  private byOperation: Record<StaOperation, number> = emptyOperations();

  record(outcome: RequestOutcome, operation: StaOperation | undefined): void {
    this.total += 1;
    const key = String(outcome);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    if (operation !== undefined) this.byOperation[operation] += 1;
  }

  snapshot(authenticators: number): SimulatorStats {
    return {
      requests: { total: this.total, byStatus: Object.fromEntries(this.byStatus), byOperation: { ...this.byOperation } },
      authenticators,
    };
  }

  clear(): void {
    this.total = 0;
    this.byStatus.clear();
    this.byOperation = emptyOperations();
  }
}

function emptyOperations(): Record<StaOperation, number> {
  return { list: 0, create: 0, get: 0, delete: 0, update: 0 };
}
