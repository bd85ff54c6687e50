import { describe, expect, it } from 'vitest';
import { csvCell } from '../../../src/report/csv-cell.js';

describe('csvCell', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","click")', `"'=HYPERLINK(""http://evil.example"",""click"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\r=cmd', `"'\r=cmd"`],
  ])('neutralises a cell starting with a formula trigger: %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('leaves trigger characters alone when they are not the first character', () => {
    expect(csvCell('a=b+c-d@e')).toBe('a=b+c-d@e');
    expect(csvCell('key\tvalue')).toBe('key\tvalue');
  });

  it('quotes cells holding a comma, a quote, CR or LF and doubles inner quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell('line1\r\nline2')).toBe('"line1\r\nline2"');
    expect(csvCell('"')).toBe('""""');
  });

  it('writes plain text and numbers as they are', () => {
    expect(csvCell('YubiKey 5')).toBe('YubiKey 5');
    expect(csvCell(201)).toBe('201');
    expect(csvCell(0)).toBe('0');
    expect(csvCell('')).toBe('');
  });

  it('writes null and undefined as an empty cell', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });

  it('keeps a base64 user id ending in = and a base64url credential id starting with - readable but safe', () => {
    expect(csvCell('dXNlcg==')).toBe('dXNlcg==');
    expect(csvCell('-AbC_123')).toBe("'-AbC_123");
  });
});
