/**
 * latency-speedup: what concurrency buys against a slow STA. The simulator (own process) answers
 * after 50 ms, no rate limit. N = 400 records are imported twice, each time into a fresh
 * simulator:
 *   - sequentially: `StaClient.createAuthenticator`, one call after the other;
 *   - by the worker pipeline: records ingested first (not timed), then an in-process import
 *     worker (concurrency 32, STA_RATE_LIMIT 10000) from its start to the last outcome.
 * Measured: sequential time / pipeline time. Target ≥ 10×.
 */
import { join } from 'node:path';
import { BENCH_TENANT, round, runBenchmark, spawnSimulator, type Measurement } from './bench-kit.js';
import { benchRecords, ingestRun, inspectFiles, openRunSide, pacedStaClient, startWorkerSide, waitForRun, writeBenchExport } from './bench-pipeline.js';

const LATENCY_MS = 50;
const RECORDS = 400;
const CONCURRENCY = 32;
const RATE_PER_SECOND = 10_000;
const TARGET = 10;
const SEED = 51;

await runBenchmark('latency-speedup', async (context): Promise<Measurement> => {
  const count = context.scaled(RECORDS, 40);
  const users = Math.max(1, Math.round(count / 2));

  // Sequential: one request at a time.
  const sequentialSim = await spawnSimulator(context, { faults: { latencyMs: LATENCY_MS } });
  const client = pacedStaClient(sequentialSim.url, null, 1);
  context.defer(() => client.close());
  const sequentialStarted = performance.now();
  for (const record of benchRecords(count, users, SEED)) {
    await client.createAuthenticator(
      { tenantCode: BENCH_TENANT, userId: record.userId },
      { type: 'FIDO', metadata: { attestation: { clientDataJson: record.clientDataJson, attestationObject: record.attestationObject }, friendlyName: record.friendlyName } },
    );
  }
  const sequentialMs = performance.now() - sequentialStarted;
  await client.close();
  await sequentialSim.close();
  context.log(`sequential: ${count} imports in ${round(sequentialMs, 0)} ms`);

  // The pipeline, on a fresh simulator.
  const pipelineSim = await spawnSimulator(context, { faults: { latencyMs: LATENCY_MS } });
  const dir = await context.tempDir();
  const path = await writeBenchExport(join(dir, 'export.csv'), count, users, SEED);
  const prefix = context.prefix('bench-latency');
  const side = await openRunSide(context, prefix);
  const runId = 'bench-latency';
  await ingestRun(side, await inspectFiles([path]), runId, count + 1000);
  const pipelineStarted = performance.now();
  const workers = await startWorkerSide(context, side, { prefix, simulatorUrl: pipelineSim.url, concurrency: CONCURRENCY, ratePerSecond: RATE_PER_SECOND });
  const counts = await waitForRun(side.runStore, runId, count, 120_000, 5);
  const pipelineMs = performance.now() - pipelineStarted;
  await workers.close();
  if (counts.imported !== count) throw new Error(`the pipeline imported ${counts.imported} of ${count} (failed ${counts.failed}, conflict ${counts.conflict})`);
  const created = (await pipelineSim.stats()).requests.byOperation.create;
  context.log(`pipeline: ${count} imports in ${round(pipelineMs, 0)} ms`);

  const speedup = sequentialMs / pipelineMs;
  const ideal = Math.min(CONCURRENCY, count);
  return {
    measured: `${round(speedup, 1)}x`,
    value: round(speedup, 2),
    target: `>= ${TARGET}x`,
    pass: speedup >= TARGET,
    figures: {
      records: count,
      'simulator latency ms': LATENCY_MS,
      'sequential ms': round(sequentialMs, 0),
      'sequential ms per import': round(sequentialMs / count, 1),
      'pipeline ms (worker start to last outcome)': round(pipelineMs, 0),
      'pipeline imports/s': Math.round((count / pipelineMs) * 1000),
      'POSTs seen by the pipeline simulator': created,
      'ideal speedup (concurrency, records)': ideal,
    },
    notes: count < RECORDS ? [`${count} records: worker start-up is a larger share of the pipeline time`] : [],
  };
});
