/**
 * Feeding readers the way a file stream does, at any chunk size: text is cut into UTF-8 byte
 * chunks and decoded with a StringDecoder (as `createReadStream(path, { encoding: 'utf8' })`
 * does), so a multi-byte character split across chunks arrives whole.
 */
import { StringDecoder } from 'node:string_decoder';

/** The UTF-8 bytes of `text` in chunks of `size` bytes. */
export function byteChunks(content: string | Buffer, size: number): Buffer[] {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

/** The UTF-8 bytes of `text` cut into `size`-byte chunks and decoded as a file stream would. */
export function textChunks(content: string | Buffer, size: number): string[] {
  const decoder = new StringDecoder('utf8');
  const chunks = byteChunks(content, size)
    .map((chunk) => decoder.write(chunk))
    .filter((chunk) => chunk !== '');
  const rest = decoder.end();
  if (rest !== '') chunks.push(rest);
  return chunks;
}

/** `text` cut at one character position into two strings (empty pieces dropped). */
export function splitAt(text: string, position: number): string[] {
  return [text.slice(0, position), text.slice(position)].filter((piece) => piece !== '');
}

export async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Chunk sizes every reader test feeds: 1 byte, 3 bytes (splits multi-byte characters), whole. */
export const CHUNK_SIZES = [1, 3, Number.MAX_SAFE_INTEGER] as const;
