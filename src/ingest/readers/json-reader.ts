import { JSONParser } from '@streamparser/json';
import type { RawRecord } from './raw-record.js';

/**
 * Streams a JSON export — an array of records, or an object whose `records` member is one —
 * without holding the document: each record is handed out as soon as it closes. JSON cannot be
 * resynchronised after a syntax error, so a truncated or corrupt document ends with one bad record
 * describing where reading stopped; every record before it is kept.
 */
export async function* readJson(chunks: AsyncIterable<Buffer>, label: string): AsyncGenerator<RawRecord> {
  let parser: JSONParser | null = null;
  let index = 0;
  // Written from parser callbacks: a holder, so control-flow narrowing does not see it as constant.
  const state: { failure: string | null; wrapped: boolean; sawRecordsArray: boolean } = { failure: null, wrapped: false, sawRecordsArray: false };
  /** Bytes before the document (BOM, whitespace): the parser counts from after them. */
  let skippedBytes = 0;
  const ready: RawRecord[] = [];

  const start = (firstChar: string): JSONParser | null => {
    if (firstChar !== '[' && firstChar !== '{') {
      state.failure = `JSON: the document starts with '${firstChar}'; expected an array of records or {"records": [...]}`;
      return null;
    }
    state.wrapped = firstChar === '{';
    const created = new JSONParser({ paths: state.wrapped ? ['$.records.*', '$.records'] : ['$.*'], keepStack: false });
    created.onValue = ({ value, key, stack }) => {
      if (state.wrapped && stack.length === 1) {
        // `$.records` itself closing: it must have been an array.
        state.sawRecordsArray = Array.isArray(value);
        return;
      }
      const position = typeof key === 'number' ? key : index;
      const source = `${label}:#${position}`;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        ready.push({ ok: true, index, source, fields: value });
      } else {
        ready.push({ ok: false, index, source, reason: `JSON: the record is ${describe(value)}, not an object` });
      }
      index += 1;
    };
    created.onError = (error: Error) => {
      state.failure ??= error.message;
    };
    return created;
  };

  let head = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (state.failure !== null) break;
    if (!parser) {
      // Bytes, not text, go to the parser: a character split across chunks must stay whole.
      head = Buffer.concat([head, chunk]);
      const at = firstSignificantByte(head);
      if (at === -1) continue;
      skippedBytes = at;
      parser = start(String.fromCharCode(head[at] ?? 0));
      if (!parser) break;
      safeWrite(parser, head.subarray(at), (message) => (state.failure ??= message));
    } else {
      safeWrite(parser, chunk, (message) => (state.failure ??= message));
    }
    yield* ready.splice(0);
  }
  if (parser && state.failure === null && !parser.isEnded) {
    try {
      parser.end();
    } catch (error: unknown) {
      state.failure ??= error instanceof Error ? error.message : String(error);
    }
  }
  yield* ready.splice(0);
  if (!parser && state.failure === null) state.failure = 'JSON: the file holds only whitespace';
  if (parser && state.failure === null && state.wrapped && !state.sawRecordsArray) {
    state.failure = 'JSON: the top-level object has no "records" array';
  }
  const failure = state.failure;
  if (failure !== null) {
    const reason = failure.startsWith('JSON:') ? failure : `JSON: the document is cut off or malformed after ${index} record(s) (${withoutChunkPosition(failure, skippedBytes)}); nothing after that point can be read`;
    yield { ok: false, index, source: `${label}:#${index}`, reason };
  }
}

/** Index of the first byte that is not a UTF-8 BOM or JSON whitespace; -1 if none yet. */
function firstSignificantByte(bytes: Buffer): number {
  if (bytes[0] === 0xef && bytes.length < 3) return -1; // maybe a BOM still arriving
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i += 1;
  return i < bytes.length ? i : -1;
}

function safeWrite(parser: JSONParser, data: Buffer, onFailure: (message: string) => void): void {
  try {
    parser.write(data);
  } catch (error: unknown) {
    onFailure(error instanceof Error ? error.message : String(error));
  }
}

/** The parser names the position within the chunk it was given: noise that changes with the read size. */
function withoutChunkPosition(message: string, skippedBytes: number): string {
  return message.replace(/ at chunk position "\d+" \(absolute position "(\d+)"\)/, (_match, position: string) => ` at byte ${Number(position) + skippedBytes}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
