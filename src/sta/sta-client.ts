import { Agent, request, type Dispatcher } from 'undici';
import type { Secret } from '../config/secret.js';
import type { ObjectIdFormat, StaOperation } from './documented-messages.js';
import { parseRetryAfterMs } from './retry-after.js';
import { classifyStatus, StaError, type StaErrorCode } from './sta-error.js';
import type {
  Authenticator,
  AuthenticatorPage,
  CreateAuthenticatorRequest,
  UpdateAuthenticatorRequest,
  UserRef,
} from './types.js';

/** One HTTP exchange, reported after it ends (for debug logs and metrics). Holds no secret. */
export interface StaCallEvent {
  readonly operation: StaOperation;
  readonly method: string;
  readonly tenantCode: string;
  readonly userId: string;
  readonly authenticatorId: string | null;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly errorCode: StaErrorCode | null;
}

export interface StaClientOptions {
  /** Origin (and optional path prefix) of the API; `/api/v1/...` is appended. */
  readonly baseUrl: URL;
  readonly apiKey: Secret;
  readonly objectIdFormat: ObjectIdFormat;
  /** Whole-request timeout (connect + headers + body), milliseconds. */
  readonly timeoutMs: number;
  /** Keep-alive sockets kept open to STA; bounds concurrency per process. Default 64. */
  readonly maxConnections?: number;
  /** Awaited before every HTTP request, pagination included: where the global rate limiter plugs in. */
  readonly beforeRequest?: (operation: StaOperation) => Promise<void>;
  /** Called after every exchange. */
  readonly onCall?: (event: StaCallEvent) => void;
  /** Injected for tests; by default a keep-alive undici Agent owned (and closed) by the client. */
  readonly dispatcher?: Dispatcher;
  /** Wall clock, milliseconds since the epoch: call latency and HTTP-date `Retry-After`. Default Date.now. */
  readonly now?: () => number;
}

/** Result of a create: STA answers 200/201; the body is the authenticator when STA sends one. */
export interface CreateResult {
  readonly status: number;
  readonly authenticator: Authenticator | null;
}

/** STA's page size limit for authenticator lists. */
export const MAX_PAGE_SIZE = 20;

const USER_AGENT = 'sta-migrate/0.1';

/**
 * Typed client for STA's authenticator management API. Every failure becomes a {@link StaError}
 * with a status, STA's message, a stable code and a retryable/permanent classification. It makes
 * no retry decision of its own.
 */
export class StaClient {
  readonly #options: StaClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #now: () => number;
  #closed: Promise<void> | undefined;

  constructor(options: StaClientOptions) {
    this.#options = options;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({ connections: options.maxConnections ?? 64, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, pipelining: 1 });
    this.#now = options.now ?? Date.now;
  }

  /** One page; `pageIndex` is zero-based, `pageSize` 1–20. */
  async listAuthenticators(user: UserRef, page: { pageIndex?: number; pageSize?: number } = {}): Promise<AuthenticatorPage> {
    const query = new URLSearchParams();
    if (page.pageIndex !== undefined) query.set('pageIndex', String(page.pageIndex));
    if (page.pageSize !== undefined) query.set('pageSize', String(page.pageSize));
    return this.#call('list', 'GET', user, null, query, undefined, [200], asPage);
  }

  /**
   * Every authenticator of a user, walking pages by index (at most ceil(total/pageSize) calls).
   * The `links` of a page are not followed: they name a host, and the API key must only ever be
   * sent to the configured base URL.
   */
  async *iterateAuthenticators(user: UserRef, pageSize = MAX_PAGE_SIZE): AsyncGenerator<Authenticator> {
    let pageIndex = 0;
    for (;;) {
      const page = await this.listAuthenticators(user, { pageIndex, pageSize });
      yield* page.page.items;
      const lastIndex = Math.max(page.page.totalPages - 1, 0);
      if (page.page.items.length === 0 || pageIndex >= lastIndex) return;
      pageIndex += 1;
    }
  }

  /** POST: imports an authenticator. 409 surfaces as a StaError of kind 'conflict'. */
  async createAuthenticator(user: UserRef, request: CreateAuthenticatorRequest): Promise<CreateResult> {
    return this.#call('create', 'POST', user, null, null, request, [200, 201], (json, status, text) => {
      // STA may answer a successful import with the authenticator or with nothing; an HTML page
      // (a wrong base URL, a proxy's login page) must not count as an import.
      if (json === null && text.trim() !== '') {
        throw new StaError({ operation: 'create', code: 'STA_BAD_RESPONSE', kind: 'retryable', status, staMessage: 'the answer to the import is not JSON (is STA_BASE_URL the STA API?)' });
      }
      return { status, authenticator: maybeAuthenticator(json) };
    });
  }

  async getAuthenticator(user: UserRef, authenticatorId: string): Promise<Authenticator> {
    return this.#call('get', 'GET', user, authenticatorId, null, undefined, [200], (json, status) => asAuthenticator(json, 'get', status));
  }

  async updateAuthenticator(user: UserRef, authenticatorId: string, update: UpdateAuthenticatorRequest): Promise<Authenticator> {
    return this.#call('update', 'PATCH', user, authenticatorId, null, update, [200], (json, status) => asAuthenticator(json, 'update', status));
  }

  async deleteAuthenticator(user: UserRef, authenticatorId: string): Promise<void> {
    await this.#call('delete', 'DELETE', user, authenticatorId, null, undefined, [200, 204], () => undefined);
  }

  /** Closes pooled connections (only those the client created). Safe to call more than once. */
  async close(): Promise<void> {
    // undici destroys a closed Agent, and a second close() of a destroyed one rejects.
    if (this.#ownsDispatcher) await (this.#closed ??= this.#dispatcher.close());
  }

  /** Closes pooled connections at once, failing requests in flight (a shutdown out of time). */
  async destroy(): Promise<void> {
    if (this.#ownsDispatcher) await (this.#closed ??= this.#dispatcher.destroy());
  }

  /** Builds the URL of an operation; ids are percent-encoded (base64 ids contain + / =). */
  url(user: UserRef, authenticatorId: string | null, query: URLSearchParams | null = null): URL {
    const base = this.#options.baseUrl.href.replace(/\/+$/, '');
    const segments = ['api', 'v1', 'tenants', user.tenantCode, 'users', user.userId, 'authenticators'];
    if (authenticatorId !== null) segments.push(authenticatorId);
    const path = segments.map((segment, index) => (index < 3 ? segment : encodeURIComponent(segment))).join('/');
    const url = new URL(`${base}/${path}`);
    if (query && [...query.keys()].length > 0) url.search = query.toString();
    return url;
  }

  /**
   * One exchange. `decode` turns an expected answer into the result and throws STA_BAD_RESPONSE
   * when it cannot; it runs before `onCall`, so the event reports that failure too.
   */
  async #call<T>(
    operation: StaOperation,
    method: Dispatcher.HttpMethod,
    user: UserRef,
    authenticatorId: string | null,
    query: URLSearchParams | null,
    body: unknown,
    expected: readonly number[],
    decode: (json: unknown, status: number, text: string) => T,
  ): Promise<T> {
    await this.#options.beforeRequest?.(operation);
    const url = this.url(user, authenticatorId, query);
    const started = this.#now();
    const report = (status: number | null, errorCode: StaErrorCode | null) =>
      this.#options.onCall?.({
        operation,
        method,
        tenantCode: user.tenantCode,
        userId: user.userId,
        authenticatorId,
        status,
        latencyMs: this.#now() - started,
        errorCode,
      });
    const apiKey = this.#options.apiKey.reveal();
    const headers: Record<string, string> = {
      apikey: apiKey,
      'object-id-format': this.#options.objectIdFormat,
      accept: 'application/json',
      'user-agent': USER_AGENT,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';

    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        dispatcher: this.#dispatcher,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error: unknown) {
      const failure = transportError(operation, error, this.#options.timeoutMs);
      report(null, failure.code);
      throw failure;
    }

    let text: string;
    try {
      text = await response.body.text();
    } catch (error: unknown) {
      const failure = transportError(operation, error, this.#options.timeoutMs);
      report(response.statusCode, failure.code);
      throw failure;
    }
    const json = parseJson(text);
    const status = response.statusCode;
    if (expected.includes(status)) {
      let result: T;
      try {
        result = decode(json, status, text);
      } catch (error: unknown) {
        report(status, error instanceof StaError ? error.code : null);
        throw error;
      }
      report(status, null);
      return result;
    }
    const { code, kind } = classifyStatus(status);
    report(status, code);
    throw new StaError({
      operation,
      code,
      kind,
      status,
      // A gateway or proxy may echo request headers in its error page.
      staMessage: withoutSecret(messageOf(json, text), apiKey),
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfterMs(response.headers['retry-after'], this.#now()) : null,
    });
  }
}

/** Network-level failure → StaError; never includes request headers. */
function transportError(operation: StaOperation, error: unknown, timeoutMs: number): StaError {
  const code = errorCode(error);
  if (code === 'UND_ERR_INVALID_ARG') {
    // undici refused to build the request (e.g. an API key with characters a header cannot carry;
    // its message names the header, not the value): nothing was sent, and a retry fails the same way.
    return new StaError({
      operation,
      code: 'STA_BAD_REQUEST',
      kind: 'permanent',
      status: null,
      staMessage: error instanceof Error ? error.message : code,
      requestMayHaveReachedSta: false,
      cause: error,
    });
  }
  const timedOut = isTimeout(error);
  const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT';
  const detail = timedOut ? `no answer within ${timeoutMs} ms` : (code ?? (error instanceof Error ? error.message : 'network error'));
  return new StaError({
    operation,
    code: timedOut ? 'STA_TIMEOUT' : 'STA_NETWORK',
    kind: 'retryable',
    status: null,
    staMessage: detail,
    requestMayHaveReachedSta: !neverSent,
    cause: error,
  });
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  return (
    error.name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    (error.name === 'AbortError' && error.cause instanceof Error && error.cause.name === 'TimeoutError')
  );
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * STA's message from an error body: `message`, `detail`, or an ASP.NET validation problem
 * (`title` plus `errors`), or short plain text.
 */
export function messageOf(json: unknown, text: string): string | null {
  if (isRecord(json)) {
    for (const key of ['message', 'Message', 'detail', 'error_description']) {
      const value = json[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    if (typeof json['title'] === 'string') {
      const errors = isRecord(json['errors'])
        ? Object.entries(json['errors'])
            .map(([field, list]) => `${field}: ${Array.isArray(list) ? list.join(' ') : String(list)}`)
            .join('; ')
        : '';
      return errors ? `${json['title']} ${errors}` : json['title'];
    }
    if (typeof json['error'] === 'string') return json['error'];
  }
  if (typeof json === 'string') return json;
  const trimmed = text.trim();
  return trimmed !== '' && trimmed.length <= 500 && !trimmed.startsWith('<') ? trimmed : null;
}

function withoutSecret(text: string | null, secret: string): string | null {
  return text === null || secret === '' ? text : text.replaceAll(secret, '[redacted]');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function maybeAuthenticator(json: unknown): Authenticator | null {
  return isRecord(json) && typeof json['id'] === 'string' && typeof json['state'] === 'string' ? (json as unknown as Authenticator) : null;
}

function asAuthenticator(json: unknown, operation: StaOperation, status: number): Authenticator {
  const authenticator = maybeAuthenticator(json);
  if (!authenticator) {
    throw new StaError({ operation, code: 'STA_BAD_RESPONSE', kind: 'retryable', status, staMessage: 'response is not an authenticator' });
  }
  return authenticator;
}

function asPage(json: unknown, status: number): AuthenticatorPage {
  const page = isRecord(json) ? json['page'] : undefined;
  if (!isRecord(page) || !Array.isArray(page['items']) || typeof page['totalPages'] !== 'number') {
    throw new StaError({ operation: 'list', code: 'STA_BAD_RESPONSE', kind: 'retryable', status, staMessage: 'response is not a page of authenticators' });
  }
  return json as AuthenticatorPage;
}
