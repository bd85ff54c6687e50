/**
 * Splits CSV text into record texts, by RFC 4180 quoting rules, and remembers the line each record
 * starts on. csv-parse then parses the fields; this splitter exists because csv-parse, after a
 * malformed quote, drops the records that follow it (tested), and a migration must account for
 * every record: here a bad record is isolated to itself and reading goes on after it.
 *
 * A quote opens a quoted field only at the start of a field; inside one, `""` is a literal quote
 * and a `"` closes it. A record ends at a line break outside quotes. An opening quote that is never
 * closed would swallow the rest of the file: when the record outgrows `maxRecordBytes` or the input
 * ends inside quotes, the record is reported as broken at its first line and splitting resumes on
 * the next line.
 */
export interface SplitRecord {
  /** The record without its line terminator. */
  readonly text: string;
  /** 1-based line number where the record starts. */
  readonly line: number;
  /** Set when the record is structurally broken (unterminated quote, oversize). */
  readonly problem: string | null;
}

const MALFORMED_MULTILINE = -2;

export class CsvRecordSplitter {
  #buffer = '';
  /** Scan position in #buffer and quoting state at that position. */
  #scan = 0;
  #inQuotes = false;
  #atFieldStart = true;
  /** Buffer index of the quote that opened the current quoted field. */
  #quoteOpenedAt = 0;
  /** Line number of the first character of #buffer. */
  #line = 1;
  readonly #maxRecordChars: number;

  constructor(maxRecordBytes: number) {
    this.#maxRecordChars = maxRecordBytes;
  }

  /** Feeds text; returns every record completed by it. */
  push(text: string): SplitRecord[] {
    this.#buffer += text;
    return this.#drain(false);
  }

  /** Ends the input; returns the last records. */
  end(): SplitRecord[] {
    return this.#drain(true);
  }

  #drain(final: boolean): SplitRecord[] {
    const out: SplitRecord[] = [];
    for (;;) {
      if (this.#skippingLine) {
        if (this.#skipRestOfLine()) continue;
        return out;
      }
      if (this.#discarding) {
        if (this.#discard()) continue;
        if (final) this.#buffer = '';
        return out;
      }
      const end = this.#findRecordEnd(final);
      if (end === MALFORMED_MULTILINE) {
        this.#emitFirstLineAsBroken(out, 'a quoted field opened here is never closed properly (a later quote is followed by text)');
        continue;
      }
      if (end !== -1) {
        this.#emit(out, end, end > this.#maxRecordChars ? `the record is larger than ${Math.round(this.#maxRecordChars / 1048576)} MB` : null);
        continue;
      }
      if (this.#inQuotes && (final || this.#buffer.length > this.#maxRecordChars)) {
        this.#recoverFromOpenQuote(out, final);
        continue;
      }
      if (!this.#inQuotes && this.#buffer.length > this.#maxRecordChars) {
        this.#skipOversizeLine(out);
        continue;
      }
      if (final && this.#buffer.length > 0) {
        this.#emit(out, this.#buffer.length, null);
        continue;
      }
      return out;
    }
  }

  /**
   * Index of the line break that ends the current record, or -1 if not in the buffer yet. With
   * `final`, nothing more will arrive: a quote that is the last character closes its field.
   */
  #findRecordEnd(final: boolean): number {
    const buffer = this.#buffer;
    let i = this.#scan;
    while (i < buffer.length) {
      if (this.#inQuotes) {
        const quote = buffer.indexOf('"', i);
        if (quote === -1) {
          i = buffer.length;
          break;
        }
        if (quote + 1 >= buffer.length) {
          if (final) {
            this.#inQuotes = false;
            this.#atFieldStart = false;
            i = quote + 1;
            continue;
          }
          // Cannot tell `""` from a closing quote until the next character arrives.
          i = quote;
          break;
        }
        const next = buffer[quote + 1];
        if (next === '"') {
          i = quote + 2;
          continue;
        }
        if (next !== ',' && next !== '\r' && next !== '\n' && buffer.lastIndexOf('\n', quote) > this.#quoteOpenedAt) {
          // `"…` + line break + `…"x`: a quote that spans lines and then closes malformed is far
          // likelier an opening quote never closed that met a stray quote further down.
          this.#scan = quote;
          return MALFORMED_MULTILINE;
        }
        this.#inQuotes = false;
        this.#atFieldStart = false;
        i = quote + 1;
        continue;
      }
      // Fast path: up to the next quote or line break nothing can change the state but a comma,
      // and a record with no quote before its line break ends there.
      const nextQuote = buffer.indexOf('"', i);
      const nextBreak = buffer.indexOf('\n', i);
      if (nextQuote === -1 || (nextBreak !== -1 && nextBreak < nextQuote)) {
        if (nextBreak !== -1) {
          this.#scan = nextBreak;
          return nextBreak;
        }
        this.#atFieldStart = fieldStartsAt(buffer, buffer.length, i, this.#atFieldStart);
        i = buffer.length;
        break;
      }
      if (nextQuote > i) {
        this.#atFieldStart = fieldStartsAt(buffer, nextQuote, i, this.#atFieldStart);
        i = nextQuote;
      }
      const ch = buffer[i];
      if (ch === '\n') {
        this.#scan = i;
        return i;
      }
      if (ch === '"' && this.#atFieldStart) {
        this.#inQuotes = true;
        this.#quoteOpenedAt = i;
        this.#atFieldStart = false;
      } else if (ch === ',') {
        this.#atFieldStart = true;
      } else if (ch !== '\r') {
        this.#atFieldStart = false;
      }
      i += 1;
    }
    this.#scan = i;
    return -1;
  }

  /** Emits buffer[0, end) as a record (dropping a trailing CR) and consumes the line break. */
  #emit(out: SplitRecord[], end: number, problem: string | null): void {
    const raw = this.#buffer.slice(0, end);
    const text = raw.length > this.#maxRecordChars ? '' : raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const startLine = this.#line;
    this.#line += countNewlines(raw) + (end < this.#buffer.length ? 1 : 0);
    this.#buffer = this.#buffer.slice(end + 1);
    this.#scan = 0;
    this.#inQuotes = false;
    this.#atFieldStart = true;
    if (problem === null && !/\S/.test(text)) return; // blank line
    out.push({ text, line: startLine, problem });
  }

  #recoverFromOpenQuote(out: SplitRecord[], final: boolean): void {
    this.#emitFirstLineAsBroken(
      out,
      final
        ? 'a quoted field is never closed (unterminated quote)'
        : `a quoted field runs past ${Math.round(this.#maxRecordChars / 1048576)} MB (unterminated quote?)`,
    );
  }

  /** Reports the record's first line as broken and resumes splitting on the next line. */
  #emitFirstLineAsBroken(out: SplitRecord[], reason: string): void {
    const firstBreak = this.#buffer.indexOf('\n');
    const message = `${reason}; the record is taken to end at its first line and reading resumes on the next`;
    this.#emit(out, firstBreak === -1 ? this.#buffer.length : firstBreak, message);
    // The first line has not ended yet (one oversize line): its rest belongs to the record just
    // reported, not to a new one.
    if (firstBreak === -1) this.#skippingLine = true;
  }

  /** Drops text up to and including the next line break; true once it has been dropped. */
  #skipRestOfLine(): boolean {
    const lineBreak = this.#buffer.indexOf('\n');
    this.#buffer = lineBreak === -1 ? '' : this.#buffer.slice(lineBreak + 1);
    this.#scan = 0;
    if (lineBreak === -1) return false;
    this.#line += 1;
    this.#skippingLine = false;
    this.#inQuotes = false;
    this.#atFieldStart = true;
    return true;
  }

  /**
   * A record too large with no unterminated quote to blame (e.g. a long quoted field with line
   * breaks): report it at its first line, then drop text up to the end of that record.
   */
  #skipOversizeLine(out: SplitRecord[]): void {
    out.push({ text: '', line: this.#line, problem: `the record is larger than ${Math.round(this.#maxRecordChars / 1048576)} MB` });
    this.#discarding = true;
  }

  /** Drops scanned text while discarding; true when the oversize record has ended. */
  #discard(): boolean {
    const end = this.#findRecordEnd(false);
    const dropped = end === -1 ? this.#buffer : this.#buffer.slice(0, end + 1);
    this.#line += countNewlines(dropped);
    this.#buffer = this.#buffer.slice(dropped.length);
    this.#scan = 0;
    if (end === -1) return false;
    this.#discarding = false;
    this.#inQuotes = false;
    this.#atFieldStart = true;
    return true;
  }

  #discarding = false;
  #skippingLine = false;
}

/**
 * Whether position `at` is the start of a field, judging by the characters before it back to
 * `from` (where the state was `atFrom`): after a comma, yes; after anything but CR, no.
 */
function fieldStartsAt(buffer: string, at: number, from: number, atFrom: boolean): boolean {
  for (let j = at - 1; j >= from; j -= 1) {
    const ch = buffer[j];
    if (ch === ',') return true;
    if (ch !== '\r') return false;
  }
  return atFrom;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count += 1;
  return count;
}
