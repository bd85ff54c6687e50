import { Command } from 'commander';
import { validateRunId } from '../run/run-id.js';
import { CliError, EXIT, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { Runtime } from './runtime.js';
import { configFor } from './shared-options.js';

export function statusCommand(io: CliIo, setExit: (code: ExitCode) => void): Command {
  return new Command('status')
    .description('runs and their counts (O(1) per run), or one run in detail')
    .argument('[runId]', 'one run')
    .option('--json', 'print JSON', false)
    .action(async (runId: string | undefined, flags: { json: boolean }) => {
      const rt = new Runtime(configFor(io, []), io);
      try {
        const [runStore, queue] = [await rt.runStore(), await rt.queue()];
        const breaker = await runStore.getBreaker();
        if (runId !== undefined) {
          const valid = validateRunId(runId);
          if (!valid.ok) throw new CliError(valid.reason, EXIT.usage);
          const manifest = await runStore.getManifest(runId);
          if (!manifest) throw new CliError(`run '${runId}' was not found`, EXIT.usage);
          const [counts, files, queueCounts] = [await runStore.getCounts(runId), await runStore.getFiles(runId), await queue.getJobCounts()];
          if (flags.json) {
            writeLine(io.stdout, JSON.stringify({ manifest, counts, files, queue: queueCounts, breaker }, null, 2));
          } else {
            writeLine(io.stdout, `Run ${runId} — created ${manifest.createdAt}${manifest.finishedAt ? `, finished ${manifest.finishedAt}` : ''}`);
            writeLine(io.stdout, `  ingest: ${manifest.ingestDone ? 'done' : 'in progress or interrupted'}${manifest.abortedReason ? `; ABORTED: ${manifest.abortedReason}` : ''}`);
            for (const file of files) writeLine(io.stdout, `  file ${file.name}: ${file.recordsCommitted} record(s) read${file.done ? '' : ' (not finished)'}, sha256 ${file.sha256.slice(0, 12)}…`);
            writeLine(io.stdout, `  ${formatCounts(counts)}`);
            writeLine(io.stdout, `  queue (all runs): ${Object.entries(queueCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
          }
        } else {
          const ids = await runStore.listRunIds(50);
          const rows = [];
          for (const id of ids) rows.push({ runId: id, manifest: await runStore.getManifest(id), counts: await runStore.getCounts(id) });
          if (flags.json) {
            writeLine(io.stdout, JSON.stringify({ runs: rows, breaker }, null, 2));
          } else if (rows.length === 0) {
            writeLine(io.stdout, 'No runs yet. Start one with `sta-migrate run <export>` or `sta-migrate ingest <export>`.');
          } else {
            for (const row of rows) {
              const state = row.manifest?.abortedReason ? 'aborted' : row.manifest?.finishedAt ? 'finished' : row.manifest?.ingestDone ? 'working' : 'ingesting';
              writeLine(io.stdout, `${row.runId}  ${state.padEnd(9)}  ${formatCounts(row.counts)}`);
            }
          }
        }
        if (breaker.tripped && !flags.json) writeLine(io.stdout, `Circuit breaker TRIPPED at ${breaker.trippedAt ?? '?'}: ${breaker.reason ?? ''} — the queue is paused until \`run\` or \`work\` starts again.`);
        setExit(EXIT.ok);
      } finally {
        await rt.close();
      }
    });
}

function formatCounts(counts: { total: number; imported: number; alreadyImported: number; conflict: number; failed: number; invalid: number; duplicate: number; pending: number }): string {
  return `total ${counts.total}: imported ${counts.imported}, already ${counts.alreadyImported}, duplicate ${counts.duplicate}, conflict ${counts.conflict}, failed ${counts.failed}, invalid ${counts.invalid}, pending ${counts.pending}`;
}
