import { fail, ok, type Result } from '../attestation/result.js';
import { DOCUMENTED_RESPONSES, type StaOperation } from '../sta/documented-messages.js';

/** A documented error the next request of `operation` answers with. */
export interface Injection {
  readonly operation: StaOperation;
  /** HTTP status, ≥ 400. */
  readonly status: number;
  readonly message: string;
}

const OPERATIONS: ReadonlySet<string> = new Set(Object.keys(DOCUMENTED_RESPONSES));

function isOperation(value: unknown): value is StaOperation {
  return typeof value === 'string' && OPERATIONS.has(value);
}

/**
 * Validates `POST /_sim/inject`. Only (status, message) pairs the document lists for that
 * operation are accepted — exact text, or text matching a parameterised entry's pattern — and only
 * errors (status ≥ 400): injecting "200 Ok" would produce a body no real STA sends.
 */
export function parseInjection(value: unknown): Result<Injection> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('body must be a JSON object');
  const { operation, status, message } = value as Record<string, unknown>;
  if (!isOperation(operation)) return fail(`operation must be one of ${[...OPERATIONS].join(', ')}`);
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400) return fail('status must be an integer ≥ 400');
  if (typeof message !== 'string') return fail('message must be a string');
  const documented = DOCUMENTED_RESPONSES[operation].some(
    (entry) => entry.status === status && (entry.message === message || (entry.pattern?.test(message) ?? false)),
  );
  if (!documented) return fail(`${operation} does not document ${status} '${message}'`);
  return ok({ operation, status, message });
}

/** Pending injections, first in first out per operation. */
export class InjectionQueue {
  private readonly pending = new Map<StaOperation, Injection[]>();

  push(injection: Injection): number {
    const queue = this.pending.get(injection.operation) ?? [];
    queue.push(injection);
    this.pending.set(injection.operation, queue);
    return queue.length;
  }

  /** Removes and returns the next injection for the operation, if any. */
  take(operation: StaOperation): Injection | undefined {
    const queue = this.pending.get(operation);
    if (queue === undefined || queue.length === 0) return undefined;
    return queue.shift();
  }

  clear(): void {
    this.pending.clear();
  }
}
