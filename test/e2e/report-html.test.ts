/**
 * report.html as a person sees it: rendered by headless Chromium from a file:// URL, with no
 * network. Skipped (with the reason in its name) only on a developer machine without
 * /usr/bin/chromium; under CI a missing browser fails the test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportFiles, type WrittenReport } from '../../src/report/report-files.js';
import type { ReportRecord } from '../../src/report/report-record.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const skip = !available && !process.env['CI'];
if (skip) console.warn(`report-html e2e skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);

const USER_A = 'dXNlci1hbHBoYQ==';
const USER_B = 'dXNlci1icmF2bw==';
const USER_C = 'dXNlci1jaGFybGll';
const HOSTILE = '<script>window.pwned = 1</script><img src="https://evil.example/x.png" onerror="window.pwned = 2">';

let line = 1;
function record(userId: string, overrides: Partial<ReportRecord> = {}): ReportRecord {
  line += 1;
  return {
    source: `export.csv:${line}`,
    externalId: `cms-${line}`,
    tenantCode: 'DEMO',
    userId,
    credentialId: `Y3JlZGVudGlhbC${line}`,
    friendlyName: `Key ${line}`,
    outcome: 'imported',
    httpStatus: 200,
    message: null,
    attempts: 1,
    warnings: [],
    sta: { state: 'pending', verified: 'present' },
    ...overrides,
  };
}

const RECORDS: ReportRecord[] = [
  record(USER_A),
  record(USER_A, { friendlyName: HOSTILE }),
  record(USER_A, { outcome: 'already-imported', httpStatus: 409, message: 'The authenticator is already in use.' }),
  record(USER_B),
  record(USER_B, { outcome: 'failed', httpStatus: 404, message: `base64 userId ‘${USER_B}’ was not found.`, sta: { state: null, verified: 'missing' } }),
  record(USER_C, { outcome: 'failed', httpStatus: 404, message: `base64 userId ‘${USER_C}’ was not found.`, sta: { state: null, verified: 'missing' } }),
  record(USER_C, { outcome: 'invalid', httpStatus: null, attempts: 0, credentialId: null, message: 'attestationObject is missing', sta: { state: null, verified: 'notChecked' } }),
  record(USER_C, { outcome: 'duplicate', httpStatus: null, attempts: 0, message: 'same credential as export.csv:2; only the first is imported' }),
  record(USER_C, { outcome: 'pending', httpStatus: null, attempts: 0, sta: { state: null, verified: 'notChecked' } }),
];

describe.skipIf(skip)(`report.html in headless Chromium${skip ? ` (SKIPPED: ${CHROMIUM} not found; apt-get install -y chromium)` : ''}`, () => {
  let dir: string;
  let written: WrittenReport;
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!available) throw new Error(`${CHROMIUM} is missing: CI must install chromium (apt-get install -y chromium)`);
    dir = await mkdtemp(join(tmpdir(), 'sta-report-html-'));
    const files = await ReportFiles.open(dir, { runId: 'run-html', files: ['export.csv'], startedAt: '2026-01-01T00:00:00.000Z', finishedAt: null });
    for (const item of RECORDS) await files.write(item);
    written = await files.finish(new Date('2026-01-01T00:10:00.000Z'));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    page = await browser.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(pathToFileURL(written.paths.html).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const card = (key: string) => page.locator(`.card[data-key="${key}"] .n`).innerText();
  const visibleRows = () => page.locator('#records tbody tr:visible');

  it('shows the summary counts on their cards', async () => {
    expect(await card('total')).toBe('9');
    expect(await card('imported')).toBe('3');
    expect(await card('already-imported')).toBe('1');
    expect(await card('failed')).toBe('2');
    expect(await card('invalid')).toBe('1');
    expect(await card('duplicate')).toBe('1');
    expect(await card('pending')).toBe('1');
    expect(await card('conflict')).toBe('0');
    expect(await card('verified-missing')).toBe('2');
    expect(await page.locator('svg[aria-label="Outcome chart"] rect').count()).toBe(7);
  });

  it('lists the failures grouped by STA status and message', async () => {
    const rows = page.locator('#failures tbody tr');
    expect(await rows.count()).toBe(2);
    const first = await rows.nth(0).locator('td').allInnerTexts();
    expect(first.slice(0, 4)).toEqual(['failed', '404', 'base64 userId ‘…’ was not found.', '2']);
    expect(await rows.nth(1).locator('td').allInnerTexts()).toEqual(expect.arrayContaining(['invalid', 'attestationObject is missing', '1']));
  });

  it('filters the records table by what is typed in the search box', async () => {
    expect(await visibleRows().count()).toBe(RECORDS.length);
    await page.fill('#q', USER_B);
    expect(await visibleRows().count()).toBe(2);
    for (const text of await visibleRows().allInnerTexts()) expect(text).toContain(USER_B);
    expect(await page.locator('#shown').innerText()).toBe('2 shown');
    await page.fill('#q', '');
    expect(await visibleRows().count()).toBe(RECORDS.length);
  });

  it('filters the records table by outcome', async () => {
    await page.selectOption('#o', 'failed');
    expect(await visibleRows().count()).toBe(2);
    await page.selectOption('#o', '');
    expect(await visibleRows().count()).toBe(RECORDS.length);
  });

  it('shows a hostile friendly name as text and never runs it', async () => {
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('#records tbody tr').nth(1).locator('td').nth(5).innerText()).toBe(HOSTILE);
    expect(await page.locator('#records img').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('makes no network request: the file itself is the only thing loaded', () => {
    expect(requests).toEqual([pathToFileURL(written.paths.html).href]);
  });
});
