import type { StaOperation } from '../sta/documented-messages.js';

/** A request URL split into decoded path segments (the first is always '') and its query. */
export interface SplitUrl {
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
}

/**
 * Splits on '/' BEFORE decoding each segment, so `%2F` inside a userId stays part of that segment
 * and empty segments (`/tenants//users`) survive. `+` in the path is a literal plus (only the query
 * treats it as a space). Returns null on malformed percent-encoding.
 */
export function splitUrl(rawUrl: string): SplitUrl | null {
  const queryStart = rawUrl.indexOf('?');
  const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (!raw.includes('%')) {
      segments.push(raw);
      continue;
    }
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }
  return { segments, query };
}

/** An API request matched to one of the five operations. Ids are decoded, as the request wrote them. */
export interface ApiRoute {
  readonly kind: 'api';
  readonly operation: StaOperation;
  readonly tenantCode: string;
  readonly userId: string;
  /** Present for get / delete / update (possibly ''). */
  readonly authenticatorId?: string;
}

export type ApiMatch = ApiRoute | { readonly kind: 'method-not-allowed'; readonly allow: string } | { readonly kind: 'not-found' };

const COLLECTION_METHODS: Readonly<Record<string, StaOperation>> = { GET: 'list', POST: 'create' };
const ITEM_METHODS: Readonly<Record<string, StaOperation>> = { GET: 'get', DELETE: 'delete', PATCH: 'update' };

/** True when the segments are under `/api/` (the part of the server faults and stats apply to). */
export function isApiPath(segments: readonly string[]): boolean {
  return segments[0] === '' && sameLiteral(segments[1], 'api');
}

/**
 * Matches `/api/v1/tenants/{tenantCode}/users/{userId}/authenticators[/{authenticatorId}]`.
 * Decisions: literal segments compare case-insensitively (as ASP.NET Core routing does); a trailing
 * slash after `authenticators` is the item route with an empty authenticatorId (→ 400 "cannot be
 * null or empty"); one trailing slash after an authenticatorId is ignored (ASP.NET tolerates it);
 * a known path with another method answers 405 with `Allow`.
 */
export function matchApiRoute(method: string, segments: readonly string[]): ApiMatch {
  const literalsMatch =
    segments[0] === '' &&
    sameLiteral(segments[1], 'api') &&
    sameLiteral(segments[2], 'v1') &&
    sameLiteral(segments[3], 'tenants') &&
    sameLiteral(segments[5], 'users') &&
    sameLiteral(segments[7], 'authenticators');
  if (!literalsMatch) return { kind: 'not-found' };
  const tenantCode = segments[4] ?? '';
  const userId = segments[6] ?? '';
  if (segments.length === 8) {
    const operation = COLLECTION_METHODS[method];
    return operation === undefined ? { kind: 'method-not-allowed', allow: 'GET, POST' } : { kind: 'api', operation, tenantCode, userId };
  }
  const itemRoute = segments.length === 9 || (segments.length === 10 && segments[9] === '');
  if (!itemRoute) return { kind: 'not-found' };
  const operation = ITEM_METHODS[method];
  if (operation === undefined) return { kind: 'method-not-allowed', allow: 'GET, DELETE, PATCH' };
  return { kind: 'api', operation, tenantCode, userId, authenticatorId: segments[8] ?? '' };
}

function sameLiteral(segment: string | undefined, literal: string): boolean {
  return segment !== undefined && segment.toLowerCase() === literal;
}

/** Null, empty or whitespace only: what the document's "cannot be null or empty" messages cover. */
export function isBlank(value: string): boolean {
  return value.trim() === '';
}
