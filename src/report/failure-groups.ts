import type { ReportRecord } from './report-record.js';

/** Records that did not make it, grouped by what STA (or pre-flight) said. */
export interface FailureGroup {
  readonly outcome: string;
  readonly httpStatus: number | null;
  readonly message: string;
  count: number;
  /** A few sources, to find examples. */
  readonly examples: string[];
}

const MAX_GROUPS = 1000;

/**
 * Groups failures by (outcome, status, message), with user ids and other per-record values
 * folded out of messages (`‘…’` quoted parts) so that "user A not found" and "user B not found"
 * form one group.
 */
export class FailureGroups {
  readonly #groups = new Map<string, FailureGroup>();
  #overflow = 0;

  add(record: ReportRecord): void {
    if (record.outcome !== 'failed' && record.outcome !== 'invalid' && record.outcome !== 'conflict') return;
    const message = normalise(record.message ?? '(no message)');
    const key = `${record.outcome}\u0000${String(record.httpStatus)}\u0000${message}`;
    let group = this.#groups.get(key);
    if (!group) {
      if (this.#groups.size >= MAX_GROUPS) {
        this.#overflow += 1;
        return;
      }
      group = { outcome: record.outcome, httpStatus: record.httpStatus, message, count: 0, examples: [] };
      this.#groups.set(key, group);
    }
    group.count += 1;
    if (group.examples.length < 3) group.examples.push(record.source);
  }

  /** Largest first. */
  top(limit = Infinity): FailureGroup[] {
    return [...this.#groups.values()].sort((a, b) => b.count - a.count).slice(0, limit);
  }

  get overflow(): number {
    return this.#overflow;
  }
}

function normalise(message: string): string {
  return message
    .replace(/‘[^’]*’/g, '‘…’')
    .replace(/'[^']{8,}'/g, "'…'")
    .replace(/same credential as \S+/g, 'same credential as an earlier record')
    .replace(/after \d+ attempts/g, 'after all attempts');
}
