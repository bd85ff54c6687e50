import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ImportJobData } from '../queue/import-queue.js';
import type { RunStore } from '../run/run-store.js';

/**
 * A process that starts working clears a tripped circuit breaker and resumes the queue: starting
 * `run` or `work` again is how an operator says "the cause is fixed". If it is not, the breaker
 * trips again after a handful of calls.
 */
export async function resumeAfterBreaker(queue: Queue<ImportJobData>, runStore: RunStore, logger: Logger): Promise<void> {
  const breaker = await runStore.getBreaker();
  if (breaker.tripped) {
    logger.warn({ reason: breaker.reason, trippedAt: breaker.trippedAt }, 'the circuit breaker had stopped the import queue; clearing it and resuming');
    await runStore.resetBreaker();
    await queue.resume();
    return;
  }
  if (await queue.isPaused()) {
    logger.warn('the import queue was paused; resuming it');
    await queue.resume();
  }
}
