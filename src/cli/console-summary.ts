import type { FailureGroup } from '../report/failure-groups.js';
import type { ReportPaths } from '../report/report-files.js';
import { outcomeCounts, type ReportSummary } from '../report/report-record.js';

/** The end-of-run summary: a compact table of outcomes, the top failure reasons, the report paths. */
export function formatSummary(input: {
  readonly runId: string;
  readonly summary: ReportSummary;
  readonly groups: readonly FailureGroup[];
  readonly paths: ReportPaths | null;
  readonly verified: boolean;
  readonly note?: string;
}): string {
  const { summary } = input;
  const rows = outcomeCounts(summary);
  const width = String(summary.total).length;
  const lines = [
    '',
    `Run ${input.runId}: ${summary.total} record(s)`,
    ...rows.map(([name, value]) => `  ${name.padEnd(17)} ${String(value).padStart(width)}${share(value, summary.total)}`),
  ];
  if (input.verified) {
    const v = summary.verified;
    lines.push(`  verified in STA   present ${v.present}, missing ${v.missing}, not checked ${v.notChecked}`);
    if (v.importedButMissing > 0) lines.push(`  !! ${v.importedButMissing} record(s) reported imported are MISSING in STA`);
  }
  const top = input.groups.slice(0, 5);
  if (top.length > 0) {
    lines.push('', 'Top failure reasons:');
    for (const group of top) {
      lines.push(`  ${String(group.count).padStart(width)} × ${group.outcome}${group.httpStatus ? ` ${group.httpStatus}` : ''}: ${group.message}`);
    }
  }
  if (input.note) lines.push('', input.note);
  if (input.paths) lines.push('', `Report: ${input.paths.html}`, `        ${input.paths.json}`, `        ${input.paths.csv}`);
  return `${lines.join('\n')}\n`;
}

function share(value: number, total: number): string {
  return total > 0 && value > 0 ? `  (${((100 * value) / total).toFixed(1)}%)` : '';
}
