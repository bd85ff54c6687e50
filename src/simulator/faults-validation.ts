import { fail, ok, type Result } from '../attestation/result.js';
import type { SimulatorFaults } from './simulator-options.js';

const FAULT_KEYS: ReadonlySet<string> = new Set(['rateLimitPerSecond', 'latencyMs', 'faultRate', 'dropRate', 'dropMode']);

/** Largest accepted latency: above it a request would outlive any sane client timeout. */
const MAX_LATENCY_MS = 600_000;

/**
 * Validates a partial {@link SimulatorFaults} from untrusted JSON (`PUT /_sim/faults`) or from code.
 * `rateLimitPerSecond` is null or an integer ≥ 1 (a sliding window cannot hold a fraction of a
 * request); rates are in [0, 1]; `latencyMs` is in [0, 600000]; unknown keys are rejected so a typo
 * does not silently leave a fault off.
 */
export function parseFaultsPatch(value: unknown): Result<Partial<SimulatorFaults>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('faults must be a JSON object');
  const record = value as Record<string, unknown>;
  const unknownKeys = Object.keys(record).filter((key) => !FAULT_KEYS.has(key));
  if (unknownKeys.length > 0) return fail(`unknown fault setting(s): ${unknownKeys.join(', ')}`);
  const patch: Partial<SimulatorFaults> = {};

  const rate = record['rateLimitPerSecond'];
  if (rate !== undefined) {
    if (rate !== null && !(typeof rate === 'number' && Number.isInteger(rate) && rate >= 1)) {
      return fail('rateLimitPerSecond must be null or an integer ≥ 1');
    }
    patch.rateLimitPerSecond = rate;
  }
  const latency = record['latencyMs'];
  if (latency !== undefined) {
    if (!(typeof latency === 'number' && Number.isFinite(latency) && latency >= 0 && latency <= MAX_LATENCY_MS)) {
      return fail(`latencyMs must be a number between 0 and ${MAX_LATENCY_MS}`);
    }
    patch.latencyMs = latency;
  }
  for (const key of ['faultRate', 'dropRate'] as const) {
    const probability = record[key];
    if (probability === undefined) continue;
    if (!(typeof probability === 'number' && probability >= 0 && probability <= 1)) return fail(`${key} must be a number between 0 and 1`);
    patch[key] = probability;
  }
  const mode = record['dropMode'];
  if (mode !== undefined) {
    if (mode !== 'before' && mode !== 'after') return fail("dropMode must be 'before' or 'after'");
    patch.dropMode = mode;
  }
  return ok(patch);
}
