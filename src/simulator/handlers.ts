import type { IncomingHttpHeaders } from 'node:http';
import { STA_MESSAGES, staMessage, type ObjectIdFormat, type StaOperation } from '../sta/documented-messages.js';
import type { AuthenticatorPage } from '../sta/types.js';
import { importAuthenticator } from './import-authenticator.js';
import type { InjectionQueue } from './injections.js';
import { parseCreateBody, parsePatchBody } from './request-bodies.js';
import { isBlank, type ApiRoute } from './router.js';
import { jsonOk, newTraceId, staError, type SimResponse } from './sim-response.js';
import { userExists, type ResolvedApiKey, type SimulatorConfig } from './simulator-config.js';
import { toAuthenticatorJson, type SimulatorStore, type StoredAuthenticator } from './store.js';
import { BASE64URL_ID, canonicalUserId } from './user-id.js';

/** What the API handlers read and change. */
export interface ApiContext {
  readonly config: SimulatorConfig;
  readonly store: SimulatorStore;
  readonly injections: InjectionQueue;
  readonly now: () => Date;
}

/** One API request, already routed and with its body read. */
export interface ApiRequest {
  readonly route: ApiRoute;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** `http://<Host header>`: the origin of the pagination links. */
  readonly origin: string;
}

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 20;
const m = STA_MESSAGES;

/** The Object-Id-Format message differs per operation in the document (period, "(default)"). */
const OBJECT_ID_FORMAT_MESSAGE: Readonly<Record<StaOperation, string>> = {
  list: m.objectIdFormatDefault,
  get: m.objectIdFormatDefaultPeriod,
  delete: m.objectIdFormatDefaultPeriod,
  create: m.objectIdFormat,
  update: m.objectIdFormat,
};

/** Everything the checks established; what the operations work on. */
interface CheckedRequest {
  readonly operation: StaOperation;
  readonly tenantCode: string;
  /** As the request wrote it (echoed in messages and links). */
  readonly userId: string;
  /** Canonical base64: the user's identity. */
  readonly canonicalUserId: string;
  readonly format: ObjectIdFormat;
  readonly authenticatorId: string;
  readonly apiKey: ResolvedApiKey;
  readonly paging: Paging;
}

interface Paging {
  readonly pageIndex: number;
  readonly pageSize: number;
}

/**
 * Answers one API request. The checks run in this order (faults, latency and the rate limit were
 * applied before, by the server):
 *  apikey → injected error → query binding (list) → tenantCode empty → Object-Id-Format →
 *  page ranges (list) → userId empty → authenticatorId empty / not base64url → tenant exists →
 *  key scoped to tenant → userId well formed → user exists → operation.
 */
export function handleApiRequest(context: ApiContext, request: ApiRequest): SimResponse {
  const checked = checkRequest(context, request);
  if (!('operation' in checked)) return checked;
  switch (checked.operation) {
    case 'list':
      return listAuthenticators(context, checked, request.origin);
    case 'create':
      return createAuthenticator(context, checked, request.body);
    case 'get':
      return getAuthenticator(context, checked);
    case 'delete':
      return deleteAuthenticator(context, checked);
    case 'update':
      return updateAuthenticator(context, checked, request.body);
  }
}

function checkRequest(context: ApiContext, request: ApiRequest): CheckedRequest | SimResponse {
  const { operation, tenantCode, userId } = request.route;
  const { config } = context;

  const keyHeader = singleHeader(request.headers, 'apikey');
  if (keyHeader === undefined || keyHeader === '') return staError(401, m.noApiKey);
  const apiKey = config.apiKeys.get(keyHeader);
  if (apiKey === undefined) return staError(401, m.invalidCredentials);

  // Injections answer after authentication, so a test of an injected error still needs a valid key.
  const injected = context.injections.take(operation);
  if (injected !== undefined) return staError(injected.status, injected.message);

  // Query parameters are bound only for the list; the other operations declare none and ignore them.
  let paging: Paging = { pageIndex: 0, pageSize: DEFAULT_PAGE_SIZE };
  if (operation === 'list') {
    const bound = bindPaging(request.query);
    if (!('pageIndex' in bound)) return bound;
    paging = bound;
  }

  if (isBlank(tenantCode)) return staError(400, m.tenantCodeEmpty);

  const format = parseObjectIdFormat(singleHeader(request.headers, 'object-id-format'));
  if (format === null) return staError(400, OBJECT_ID_FORMAT_MESSAGE[operation]);

  if (operation === 'list') {
    if (paging.pageIndex < 0) return staError(400, m.pageIndexRange);
    if (paging.pageSize < 1 || paging.pageSize > MAX_PAGE_SIZE) return staError(400, m.pageSizeRange);
  }

  // The document lists no "userId cannot be null or empty" for the list: there an empty userId
  // falls through to the malformed-userId check below and answers 404 "base64 userId ‘’ was not found.".
  if (operation !== 'list' && isBlank(userId)) return staError(400, m.userIdEmpty);

  const authenticatorId = request.route.authenticatorId ?? '';
  if (request.route.authenticatorId !== undefined) {
    if (isBlank(authenticatorId)) return staError(400, m.authenticatorIdEmpty);
    if (!BASE64URL_ID.test(authenticatorId)) return staError(400, m.authenticatorIdNotBase64Url);
  }

  if (!config.tenants.has(tenantCode)) return staError(404, staMessage.tenantNotFound(tenantCode));
  if (apiKey.tenants !== '*' && !apiKey.tenants.has(tenantCode)) return staError(401, m.noTenantPermission);

  const canonical = canonicalUserId(userId, format);
  if (canonical === null) return malformedUserId(operation, format, userId);
  if (!userExists(config.users, tenantCode, canonical)) return userNotFound(operation, format, userId);

  return { operation, tenantCode, userId, canonicalUserId: canonical, format, authenticatorId, apiKey, paging };
}

/** Node joins repeated custom headers with ", "; the first value counts. */
function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Absent or blank = base64 (the documented default); otherwise base64 / hex, case-insensitive; else null. */
function parseObjectIdFormat(value: string | undefined): ObjectIdFormat | null {
  if (value === undefined || isBlank(value)) return 'base64';
  const normalised = value.trim().toLowerCase();
  return normalised === 'base64' || normalised === 'hex' ? normalised : null;
}

const INT32 = /^\s*[+-]?\d+\s*$/;

/**
 * Binds pageIndex / pageSize as ASP.NET binds an `int`: optional whitespace, a sign, digits, within
 * Int32. A value that does not bind is reported in the validation problem body (every bad
 * parameter, pageIndex first). Decision: an empty value (`?pageIndex=`) counts as absent.
 * When a parameter is repeated, the first value counts.
 */
function bindPaging(query: URLSearchParams): Paging | SimResponse {
  const errors: Record<string, string[]> = {};
  const bind = (name: 'pageIndex' | 'pageSize', fallback: number): number => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const value = INT32.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647) return value;
    errors[name] = [staMessage.valueNotValid(raw)];
    return fallback;
  };
  const pageIndex = bind('pageIndex', 0);
  const pageSize = bind('pageSize', DEFAULT_PAGE_SIZE);
  if (Object.keys(errors).length === 0) return { pageIndex, pageSize };
  return {
    status: 400,
    contentType: 'application/problem+json; charset=utf-8',
    // Shape and member order exactly as the document shows it.
    body: { errors, title: m.validationTitle, status: 400, traceId: newTraceId() },
  };
}

/** A userId that is not well formed for its format: the document's wording differs per operation. */
function malformedUserId(operation: StaOperation, format: ObjectIdFormat, userId: string): SimResponse {
  switch (operation) {
    case 'delete':
      return staError(400, m.userIdentifierFormatException);
    case 'update':
      return staError(400, m.userIdentifierFormat);
    case 'list':
    case 'get':
    case 'create':
      return staError(404, staMessage.userNotFound(format, userId));
  }
}

function userNotFound(operation: StaOperation, format: ObjectIdFormat, userId: string): SimResponse {
  switch (operation) {
    case 'delete':
      return staError(404, staMessage.userUserIdNotFound(userId));
    case 'update':
      return staError(404, staMessage.userNotFoundThe(format, userId));
    case 'list':
    case 'get':
    case 'create':
      return staError(404, staMessage.userNotFound(format, userId));
  }
}

/**
 * Links point at the same endpoint with `?pageIndex=N&pageSize=S`. Decisions: `last` is page
 * max(totalPages − 1, 0); `prev` is null on page 0 and otherwise the page before, capped at `last`
 * (from far past the end, prev leads back to real data); `next` is null on or after the last page.
 * The document's sample also has a `skip` link, undefined in meaning; it is not produced.
 */
function listAuthenticators(context: ApiContext, request: CheckedRequest, origin: string): SimResponse {
  const { pageIndex, pageSize } = request.paging;
  const page = context.store.page(request.tenantCode, request.canonicalUserId, pageIndex, pageSize);
  const totalPages = Math.ceil(page.totalItems / pageSize);
  const last = Math.max(totalPages - 1, 0);
  const base = `${origin}/api/v1/tenants/${encodeURIComponent(request.tenantCode)}/users/${encodeURIComponent(request.userId)}/authenticators`;
  const link = (index: number): string => `${base}?pageIndex=${index}&pageSize=${pageSize}`;
  const body: AuthenticatorPage = {
    page: { totalItems: page.totalItems, pageIndex, pageSize, totalPages, items: page.items.map(toAuthenticatorJson) },
    links: {
      first: link(0),
      self: link(pageIndex),
      last: link(last),
      prev: pageIndex > 0 ? link(Math.min(pageIndex - 1, last)) : null,
      next: pageIndex < last ? link(pageIndex + 1) : null,
    },
    itemType: 'Authenticator',
  };
  return jsonOk(body);
}

/**
 * The tenant's feature gates (plan, console toggle) are checked once the user is known to exist and
 * BEFORE the body: they are tenant-level authorisation that does not depend on the payload, and a
 * migration client must learn "import is off" (and stop) even when its payload is also bad.
 * A body whose CBOR / clientData does not decode answers 500 "Authenticator Service Exception."
 * — the document lists no 400 for it, and a real STA fails inside its authenticator service there.
 * Success is 200 with the new authenticator (the document says "200 - Ok, Authenticator imported.").
 */
function createAuthenticator(context: ApiContext, request: CheckedRequest, body: Buffer): SimResponse {
  const tenant = context.config.tenants.get(request.tenantCode);
  if (tenant?.planIncludesImport === false) return staError(403, m.planExcludesFeature);
  if (tenant?.importDisabled === true) return staError(403, m.importDisabled);
  const parsed = parseCreateBody(body);
  if (!parsed.ok) return staError(400, parsed.message);
  const outcome = importAuthenticator(
    context.store,
    { tenantCode: request.tenantCode, userId: request.canonicalUserId, provenance: 'imported', createdDateTime: context.now().toISOString() },
    parsed.value,
  );
  switch (outcome.kind) {
    case 'created':
      return jsonOk(toAuthenticatorJson(outcome.record));
    case 'duplicate':
      return staError(409, m.alreadyInUse);
    case 'undecodable':
      return staError(500, m.serviceException);
  }
}

function getAuthenticator(context: ApiContext, request: CheckedRequest): SimResponse {
  const record = context.store.findForUser(request.tenantCode, request.canonicalUserId, request.authenticatorId);
  if (record === undefined) return staError(404, staMessage.authenticatorNotFound(request.authenticatorId));
  return jsonOk(toAuthenticatorJson(record));
}

/** 404 first (the provenance must be known), then the documented 403 for the key's own user. */
function deleteAuthenticator(context: ApiContext, request: CheckedRequest): SimResponse {
  const record = context.store.findForUser(request.tenantCode, request.canonicalUserId, request.authenticatorId);
  if (record === undefined) return staError(404, staMessage.authenticatorNotFound(request.authenticatorId));
  if (request.apiKey.ownerUserId === request.canonicalUserId && record.metadata.provenance === 'imported') {
    return staError(403, m.deleteOwnImported);
  }
  context.store.remove(request.tenantCode, record);
  return { status: 204 };
}

/**
 * Body first (it is bound before the action runs), then the authenticator, then the rules; nothing
 * changes unless every requested change is allowed.
 */
function updateAuthenticator(context: ApiContext, request: CheckedRequest, body: Buffer): SimResponse {
  const parsed = parsePatchBody(body);
  if (!parsed.ok) return staError(400, parsed.message);
  const record = context.store.findForUser(request.tenantCode, request.canonicalUserId, request.authenticatorId);
  if (record === undefined) return staError(404, staMessage.authenticatorNotFound(request.authenticatorId));
  const state = nextState(record, parsed.value.state);
  if (state === null) return staError(400, m.operationNotAllowed);
  const friendlyName = parsed.value.friendlyName;
  if (friendlyName !== undefined && isBlank(friendlyName) && record.metadata.friendlyName !== '') {
    return staError(400, m.operationNotAllowed);
  }
  record.state = state;
  if (friendlyName !== undefined) record.metadata.friendlyName = friendlyName;
  return jsonOk(toAuthenticatorJson(record));
}

/**
 * The PATCH state rule: the same state is a no-op; active ↔ suspended are the only changes; from
 * pending nothing else; an unknown value is not allowed either. Decision: the value compares
 * case-insensitively (ASP.NET binds enums that way). Null = "Operation Not Allowed Exception.".
 */
function nextState(record: StoredAuthenticator, requested: string | undefined): string | null {
  if (requested === undefined) return record.state;
  const target = requested.toLowerCase();
  if (target === record.state) return record.state;
  const allowed = (record.state === 'active' && target === 'suspended') || (record.state === 'suspended' && target === 'active');
  return allowed ? target : null;
}
