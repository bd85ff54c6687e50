import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** What a handler answers; the server decides whether to write it or drop the connection. */
export interface SimResponse {
  readonly status: number;
  /** Serialised as JSON; absent = no body (204). */
  readonly body?: unknown;
  /** Default `application/json; charset=utf-8`. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A trace id in the W3C traceparent shape ASP.NET Core puts in `HttpContext.TraceIdentifier`
 * problem bodies (`00-<32 hex>-<16 hex>-00`). randomUUID is used because Node batches its entropy.
 */
export function newTraceId(): string {
  const hex = randomUUID().replaceAll('-', '');
  return `00-${hex}-${hex.slice(0, 16)}-00`;
}

/** STA's error body: `{ status, message, traceId }`. */
export function staError(status: number, message: string): SimResponse {
  return { status, body: { status, message, traceId: newTraceId() } };
}

/** A plain `{ status, message }` body: gateway answers (404 route, 405, 429) and control endpoints. */
export function plainError(status: number, message: string, headers?: Readonly<Record<string, string>>): SimResponse {
  return headers === undefined ? { status, body: { status, message } } : { status, body: { status, message }, headers };
}

export function jsonOk(body: unknown, status = 200): SimResponse {
  return { status, body };
}

/** Writes a response; a no-op when the client is already gone. */
export function writeResponse(res: ServerResponse, response: SimResponse): void {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | number> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(response.body);
  headers['content-type'] = response.contentType ?? 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(response.status, headers);
  res.end(payload);
}
