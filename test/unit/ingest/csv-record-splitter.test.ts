import { describe, expect, it } from 'vitest';
import { CsvRecordSplitter, type SplitRecord } from '../../../src/ingest/readers/csv-record-splitter.js';
import { splitAt } from './chunks.js';

const MB = 1024 * 1024;

function split(pieces: readonly string[], maxRecordBytes = MB): SplitRecord[] {
  const splitter = new CsvRecordSplitter(maxRecordBytes);
  const out: SplitRecord[] = [];
  for (const piece of pieces) out.push(...splitter.push(piece));
  out.push(...splitter.end());
  return out;
}

/** Every way of feeding `text`: whole, one character at a time, and cut in two at each position. */
function feedings(text: string): string[][] {
  const ways: string[][] = [[text], Array.from({ length: text.length }, (_, i) => text.charAt(i))];
  for (let position = 1; position < text.length; position += 1) ways.push(splitAt(text, position));
  return ways;
}

function expectSameForEveryFeeding(text: string, expected: SplitRecord[], maxRecordBytes = MB): void {
  for (const pieces of feedings(text)) {
    expect(split(pieces, maxRecordBytes), `pieces ${JSON.stringify(pieces)}`).toEqual(expected);
  }
}

const ok = (text: string, line: number): SplitRecord => ({ text, line, problem: null });

describe('CsvRecordSplitter', () => {
  it('cuts LF and CRLF records and numbers their lines, whatever the chunk boundaries', () => {
    expectSameForEveryFeeding('h1,h2\na,b\r\nc,d\n', [ok('h1,h2', 1), ok('a,b', 2), ok('c,d', 3)]);
  });

  it('keeps quoted commas, quoted line breaks and doubled quotes inside one record, numbered by its first line', () => {
    const text = 'h1,h2\n1,"a, b"\n2,"two\r\nlines and ""quotes"""\n3,"x\n\ny"\n4,z\n';
    expectSameForEveryFeeding(text, [
      ok('h1,h2', 1),
      ok('1,"a, b"', 2),
      ok('2,"two\r\nlines and ""quotes"""', 3),
      ok('3,"x\n\ny"', 5),
      ok('4,z', 8),
    ]);
  });

  it('skips blank lines but still counts them', () => {
    expectSameForEveryFeeding('h\n\na\r\n\r\n  \nb\n\n', [ok('h', 1), ok('a', 3), ok('b', 6)]);
  });

  it('takes a last record without a line break, also when it ends with a closing quote', () => {
    expectSameForEveryFeeding('h1,h2\na,b\nc,"d"', [ok('h1,h2', 1), ok('a,b', 2), ok('c,"d"', 3)]);
    expectSameForEveryFeeding('h1,h2\nc,"d"""', [ok('h1,h2', 1), ok('c,"d"""', 2)]);
  });

  it('treats a quote inside an unquoted field as text, not as an opening quote', () => {
    expectSameForEveryFeeding('h\nab"c,d\ne\n', [ok('h', 1), ok('ab"c,d', 2), ok('e', 3)]);
  });

  it('reports an unterminated quote at its first line and recovers the records after it', () => {
    const records = split(['h1,h2\na,b\nc,"open\nd,e\nf,g\n']);
    expect(records).toEqual([
      ok('h1,h2', 1),
      ok('a,b', 2),
      { text: 'c,"open', line: 3, problem: expect.stringContaining('never closed (unterminated quote)') as string },
      ok('d,e', 4),
      ok('f,g', 5),
    ]);
    for (const pieces of feedings('h1,h2\na,b\nc,"open\nd,e\nf,g\n')) expect(split(pieces)).toEqual(records);
  });

  it('reports a quote that spans lines and then closes malformed at its first line, and resumes on the next', () => {
    const text = 'h1,h2\na,"open\nb,c\nd,"e"x\nf,g\n';
    const expected: SplitRecord[] = [
      ok('h1,h2', 1),
      { text: 'a,"open', line: 2, problem: expect.stringContaining('never closed properly') as string },
      ok('b,c', 3),
      ok('d,"e"x', 4), // malformed closing quote on one line: csv-parse rejects this record alone
      ok('f,g', 5),
    ];
    expectSameForEveryFeeding(text, expected);
  });

  it('rejects an oversize record once and goes on with the next one', () => {
    const long = 'x'.repeat(50);
    // Unquoted, one line.
    expectSameForEveryFeeding(`h\n${long}\nb\n`, [ok('h', 1), { text: '', line: 2, problem: 'the record is larger than 0 MB' }, ok('b', 3)], 20);
    // Quoted with line breaks, complete in the buffer.
    expect(split([`h\n"${long}\n${long}",c\nb\n`], 20)).toEqual([ok('h', 1), { text: '', line: 2, problem: 'the record is larger than 0 MB' }, ok('b', 4)]);
  });

  it('accounts for an oversize quoted field arriving in chunks exactly once, at its line', () => {
    const pieces = ['h,c\n"', 'x'.repeat(30), 'x'.repeat(30), 'x",1\n', 'b,2\n'];
    const records = split(pieces, 20);
    expect(records).toEqual([
      ok('h,c', 1),
      { text: '', line: 2, problem: expect.stringContaining('a quoted field runs past 0 MB (unterminated quote?)') as string },
      ok('b,2', 3),
    ]);
  });

  it('returns nothing for empty input and only the header for a header-only file', () => {
    expect(split([])).toEqual([]);
    expect(split([''])).toEqual([]);
    expectSameForEveryFeeding('h1,h2\r\n', [ok('h1,h2', 1)]);
  });
});
