import { inspectExportFile } from '/work/main/src/ingest/export-file.js';
import { readExport } from '/work/main/src/ingest/read-export.js';
import { ingestFiles } from '/work/main/src/ingest/ingest-pipeline.js';
import { readdirSync } from 'node:fs';
for (const name of readdirSync('fixtures/dirty')) {
  const path = 'fixtures/dirty/' + name;
  try {
    const map = name.startsWith('renamed') ? { userId: 'user_id', attestationObject: 'attestation', clientDataJson: 'client_data', friendlyName: 'name' } : {};
    const file = await inspectExportFile(path, { map });
    const entries: any[] = [];
    const sink = { beginFile: async () => ({ done: false, committed: 0 }), claim: async (c: any[]) => c.map(() => null), enqueue: async () => {}, commit: async (_f: any, e: any[]) => { entries.push(...e); } };
    const totals = await ingestFiles([file], { runId: 'r', preflight: { rpId: null, strict: false, defaultTenant: 'T', objectIdFormat: 'base64' }, map, batchSize: 2 }, sink as any);
    console.log(name, file.format, JSON.stringify(totals), entries.map((e) => `${e.source} ${e.ingestOutcome} ${e.message ?? ''} ${e.warnings.join('|')}`));
  } catch (e) { console.log(name, 'ERR', (e as Error).message); }
}
