import type { FailureGroup } from './failure-groups.js';
import { outcomeCounts, type ReportRecord, type ReportSummary } from './report-record.js';

export interface HtmlReportInput {
  readonly runId: string;
  readonly files: readonly string[];
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly generatedAt: string;
  readonly summary: ReportSummary;
  readonly groups: readonly FailureGroup[];
  /** Table rows, rendered with {@link renderRecordRow} (strings weigh less than records kept alive). */
  readonly rows: readonly string[];
  /** True when `rows` is not every record (large runs). */
  readonly truncated: boolean;
}

const OUTCOME_COLOURS: Readonly<Record<string, string>> = {
  imported: '#2e7d32',
  'already-imported': '#66bb6a',
  duplicate: '#90a4ae',
  conflict: '#ef6c00',
  failed: '#c62828',
  invalid: '#8e24aa',
  pending: '#1565c0',
};

/**
 * The human report: one self-contained page (no network, no scripts from elsewhere) with the
 * summary, a chart of outcomes, failures grouped by STA's answer, and a searchable table.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { summary } = input;
  const bars = outcomeCounts(summary);
  const flagged = summary.verified.importedButMissing;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>sta-migrate report ${escapeHtml(input.runId)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fafbfc}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#57606a;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:110px}
.card .n{font-size:22px;font-weight:600}.card .l{color:#57606a}
.flag{background:#fff4f4;border-color:#c62828;color:#c62828}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f7;position:sticky;top:0}
td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.badge{display:inline-block;padding:0 6px;border-radius:10px;color:#fff;font-size:12px}
.controls{margin:8px 0;display:flex;gap:8px}
input,select{font:inherit;padding:4px 6px}
.note{color:#57606a}
</style>
</head>
<body>
<h1>Reconciliation report — ${escapeHtml(input.runId)}</h1>
<div class="meta">Files: ${input.files.map(escapeHtml).join(', ') || '—'} · started ${escapeHtml(input.startedAt ?? '—')} · finished ${escapeHtml(input.finishedAt ?? '—')} · generated ${escapeHtml(input.generatedAt)}</div>
<section aria-label="Summary">
<div class="cards" id="summary">
${card('total', summary.total, 'records read')}
${bars.map(([name, value]) => card(name, value, name)).join('\n')}
${card('verified-present', summary.verified.present, 'verified present')}
${card('verified-missing', summary.verified.missing, 'verified missing')}
${card('verified-not-checked', summary.verified.notChecked, 'not checked')}
${flagged > 0 ? `<div class="card flag" data-key="imported-but-missing"><div class="n">${flagged}</div><div class="l">imported but missing in STA</div></div>` : ''}
</div>
</section>
<h2>Outcomes</h2>
${chart(bars, summary.total)}
<h2>Failures by reason</h2>
${failureTable(input.groups)}
<h2>Records</h2>
<div class="controls"><input id="q" type="search" placeholder="Search source, user, credential, message…" size="50" aria-label="Search records">
<select id="o" aria-label="Outcome"><option value="">all outcomes</option>${bars.map(([name]) => `<option>${name}</option>`).join('')}</select>
<span id="shown" class="note"></span></div>
${input.truncated ? `<p class="note">This page lists ${input.rows.length} of ${summary.total} records (problem records first); report.csv and report.json hold every record.</p>` : ''}
<table id="records"><thead><tr><th>source</th><th>external id</th><th>tenant</th><th>user id</th><th>credential id</th><th>friendly name</th><th>outcome</th><th>HTTP</th><th>message</th><th>attempts</th><th>STA state</th><th>verified</th><th>warnings</th></tr></thead>
<tbody>
${input.rows.join('\n')}
</tbody></table>
<script>
(function(){var q=document.getElementById('q'),o=document.getElementById('o'),rows=[].slice.call(document.querySelectorAll('#records tbody tr')),shown=document.getElementById('shown');
function apply(){var t=q.value.toLowerCase(),w=o.value,n=0;rows.forEach(function(r){var ok=(!w||r.getAttribute('data-outcome')===w)&&(!t||r.textContent.toLowerCase().indexOf(t)!==-1);r.style.display=ok?'':'none';if(ok)n++;});shown.textContent=n+' shown';}
q.addEventListener('input',apply);o.addEventListener('change',apply);apply();})();
</script>
</body>
</html>
`;
}

function card(key: string, value: number, label: string): string {
  return `<div class="card" data-key="${escapeHtml(key)}"><div class="n">${value}</div><div class="l">${escapeHtml(label)}</div></div>`;
}

function chart(bars: readonly [string, number][], total: number): string {
  const width = 640;
  const barHeight = 22;
  const labelWidth = 140;
  const max = Math.max(1, ...bars.map(([, value]) => value));
  const height = bars.length * (barHeight + 6) + 6;
  const items = bars
    .map(([name, value], i) => {
      const y = 6 + i * (barHeight + 6);
      const w = Math.round(((width - labelWidth - 90) * value) / max);
      const share = total > 0 ? ` (${((100 * value) / total).toFixed(1)}%)` : '';
      return `<text x="0" y="${y + 15}" font-size="13">${name}</text><rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${OUTCOME_COLOURS[name] ?? '#888'}"/><text x="${labelWidth + w + 6}" y="${y + 15}" font-size="13">${value}${share}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="Outcome chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${items}</svg>`;
}

function failureTable(groups: readonly FailureGroup[]): string {
  if (groups.length === 0) return '<p class="note">No failed, invalid or conflicting records.</p>';
  return `<table id="failures"><thead><tr><th>outcome</th><th>HTTP</th><th>message</th><th>records</th><th>examples</th></tr></thead><tbody>
${groups
  .map(
    (group) =>
      `<tr><td>${badge(group.outcome)}</td><td>${group.httpStatus ?? ''}</td><td>${escapeHtml(group.message)}</td><td>${group.count}</td><td class="mono">${group.examples.map(escapeHtml).join('<br>')}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

/** One `<tr>` of the records table. */
export function renderRecordRow(record: ReportRecord): string {
  const cells = [
    record.source,
    record.externalId,
    record.tenantCode,
    record.userId,
    record.credentialId,
    record.friendlyName,
  ].map((value, i) => `<td${i >= 3 && i <= 4 ? ' class="mono"' : ''}>${escapeHtml(value ?? '')}</td>`);
  return `<tr data-outcome="${escapeHtml(record.outcome)}">${cells.join('')}<td>${badge(record.outcome)}</td><td>${record.httpStatus ?? ''}</td><td>${escapeHtml(record.message ?? '')}</td><td>${record.attempts}</td><td>${escapeHtml(record.sta.state ?? '')}</td><td>${record.sta.verified}</td><td>${escapeHtml(record.warnings.join('; '))}</td></tr>`;
}

function badge(outcome: string): string {
  return `<span class="badge" style="background:${OUTCOME_COLOURS[outcome] ?? '#888'}">${escapeHtml(outcome)}</span>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}
