/**
 * A CSV cell that a spreadsheet will not execute: values starting with = + - @ tab or CR get a
 * leading apostrophe (OWASP "CSV injection"); then RFC 4180 quoting. The JSON report keeps the
 * exact values.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
