import { describe, expect, it } from 'vitest';
import { DOCUMENTED_RESPONSES, STA_MESSAGES, staMessage } from '../../../src/sta/documented-messages.js';
import { messageOf } from '../../../src/sta/sta-client.js';
import { classifyStatus, reasonFromMessage, StaError, type StaErrorReason } from '../../../src/sta/sta-error.js';

const m = STA_MESSAGES;

describe('classifyStatus', () => {
  it('treats 429 as rate-limited', () => {
    expect(classifyStatus(429)).toEqual({ code: 'STA_RATE_LIMITED', kind: 'rate-limited' });
  });

  it('treats 409 as a conflict', () => {
    expect(classifyStatus(409)).toEqual({ code: 'STA_CONFLICT', kind: 'conflict' });
  });

  it.each([500, 501, 502, 503, 504, 599])('treats %d as a retryable server error', (status) => {
    expect(classifyStatus(status)).toEqual({ code: 'STA_SERVER_ERROR', kind: 'retryable' });
  });

  it('treats 408 as a retryable timeout', () => {
    expect(classifyStatus(408)).toEqual({ code: 'STA_TIMEOUT', kind: 'retryable' });
  });

  it.each([
    [400, 'STA_BAD_REQUEST'],
    [422, 'STA_BAD_REQUEST'],
    [401, 'STA_UNAUTHORIZED'],
    [403, 'STA_FORBIDDEN'],
    [404, 'STA_NOT_FOUND'],
  ] as const)('treats %d as permanent (%s)', (status, code) => {
    expect(classifyStatus(status)).toEqual({ code, kind: 'permanent' });
  });

  it.each([301, 302, 405, 410, 413, 418])('treats the undocumented %d as a permanent unexpected status', (status) => {
    expect(classifyStatus(status)).toEqual({ code: 'STA_UNEXPECTED_STATUS', kind: 'permanent' });
  });
});

/** Every message that carries a reason, as STA writes it (parameterised ones filled in). */
const REASON_BEARING: readonly (readonly [string, Exclude<StaErrorReason, null>])[] = [
  [m.noApiKey, 'no-api-key'],
  [m.invalidCredentials, 'invalid-credentials'],
  [m.noTenantPermission, 'no-tenant-permission'],
  [m.planExcludesFeature, 'plan-excludes-import'],
  [m.importDisabled, 'import-disabled'],
  [m.alreadyInUse, 'already-in-use'],
  [m.deleteOwnImported, 'delete-own-imported'],
  [m.operationNotAllowed, 'operation-not-allowed'],
  [m.validationTitle, 'validation'],
  [m.tenantNotFoundException, 'tenant-not-found'],
  [m.userNotFoundException, 'user-not-found'],
  [m.authenticatorNotFoundException, 'authenticator-not-found'],
  [staMessage.tenantNotFound('DEMO'), 'tenant-not-found'],
  [staMessage.tenantNotFound(''), 'tenant-not-found'],
  [staMessage.userNotFound('base64', 'dXNlcg=='), 'user-not-found'],
  [staMessage.userNotFound('hex', '75736572'), 'user-not-found'],
  [staMessage.userNotFound('base64', ''), 'user-not-found'],
  [staMessage.userNotFoundThe('base64', 'a+b/c==='), 'user-not-found'],
  [staMessage.userNotFoundThe('hex', 'abcd'), 'user-not-found'],
  [staMessage.userUserIdNotFound('dXNlcg=='), 'user-not-found'],
  [staMessage.authenticatorNotFound('AbC-_d'), 'authenticator-not-found'],
];

const ALL_REASONS: readonly Exclude<StaErrorReason, null>[] = [
  'no-api-key',
  'invalid-credentials',
  'no-tenant-permission',
  'plan-excludes-import',
  'import-disabled',
  'tenant-not-found',
  'user-not-found',
  'authenticator-not-found',
  'already-in-use',
  'delete-own-imported',
  'operation-not-allowed',
  'validation',
];

describe('reasonFromMessage', () => {
  it.each(REASON_BEARING)('maps %j to %s', (message, reason) => {
    expect(reasonFromMessage(message)).toBe(reason);
  });

  it('covers every reason the type declares', () => {
    expect(new Set(REASON_BEARING.map(([, reason]) => reason))).toEqual(new Set(ALL_REASONS));
  });

  it('gives every documented error message its reason, and null to the ones without', () => {
    const expected = new Map<string, StaErrorReason>(REASON_BEARING);
    const seen = new Set<StaErrorReason>();
    for (const [operation, responses] of Object.entries(DOCUMENTED_RESPONSES)) {
      for (const response of responses.filter((entry) => entry.status >= 400)) {
        const reason = reasonFromMessage(response.message);
        // Parameterised entries hold placeholders ('{tenantCode}'): they still match their pattern.
        const want = expected.get(response.message) ?? reasonOfPattern(response.message);
        expect({ operation, message: response.message, reason }).toEqual({ operation, message: response.message, reason: want });
        seen.add(reason);
      }
    }
    expect([...seen].filter((reason) => reason !== null).sort()).toEqual([...ALL_REASONS].sort());
  });

  it.each([
    m.tenantCodeEmpty,
    m.userIdEmpty,
    m.authenticatorIdEmpty,
    m.authenticatorIdNotBase64Url,
    m.pageIndexRange,
    m.pageSizeRange,
    m.objectIdFormat,
    m.objectIdFormatDefault,
    m.objectIdFormatDefaultPeriod,
    m.authenticatorNull,
    m.attestationObjectNotBase64Url,
    m.clientDataJsonNotBase64Url,
    m.userIdentifierFormat,
    m.userIdentifierFormatException,
    m.serviceException,
    m.internalServerError,
  ])('gives no reason for %j', (message) => {
    expect(reasonFromMessage(message)).toBeNull();
  });

  it('accepts straight quotes as well as typographic ones', () => {
    expect(reasonFromMessage("The tenant code 'DEMO' does not exist.")).toBe('tenant-not-found');
    expect(reasonFromMessage("base64 userId 'dXNlcg==' was not found.")).toBe('user-not-found');
    expect(reasonFromMessage("The authenticator ID 'AbC' was not found.")).toBe('authenticator-not-found');
  });

  it('recognises a validation problem whose field errors were appended to the title', () => {
    expect(reasonFromMessage(`${m.validationTitle} pageIndex: ${staMessage.valueNotValid('abc')}`)).toBe('validation');
  });

  it('does not guess: near misses, other texts and null give null', () => {
    expect(reasonFromMessage(null)).toBeNull();
    expect(reasonFromMessage('')).toBeNull();
    expect(reasonFromMessage('Invalid authentication credentials')).toBeNull();
    expect(reasonFromMessage(`Note: ${m.importDisabled}`)).toBeNull();
    expect(reasonFromMessage('One or more validation errors occurred.x')).toBeNull();
    expect(reasonFromMessage('Too Many Requests')).toBeNull();
  });
});

function reasonOfPattern(message: string): StaErrorReason {
  if (message.startsWith('The tenant code')) return 'tenant-not-found';
  if (message.includes('userId ‘{userId}’ was not found.')) return 'user-not-found';
  if (message.startsWith('The authenticator ID')) return 'authenticator-not-found';
  return null;
}

describe('messageOf', () => {
  it("reads STA's { status, message, traceId } body", () => {
    const json = { status: 403, message: m.importDisabled, traceId: '00-abc-def-00' };
    expect(messageOf(json, JSON.stringify(json))).toBe(m.importDisabled);
  });

  it.each(['Message', 'detail', 'error_description'])('reads a %s member', (key) => {
    const json = { [key]: 'some text' };
    expect(messageOf(json, JSON.stringify(json))).toBe('some text');
  });

  it('reads an ASP.NET validation problem: title plus every field error', () => {
    const json = {
      errors: { pageIndex: [staMessage.valueNotValid('abc')], pageSize: [staMessage.valueNotValid('x'), 'Second.'] },
      title: m.validationTitle,
      status: 400,
      traceId: '00-abc-def-00',
    };
    const message = messageOf(json, JSON.stringify(json));
    expect(message).toBe(`${m.validationTitle} pageIndex: The value ‘abc’ is not valid.; pageSize: The value ‘x’ is not valid. Second.`);
    expect(reasonFromMessage(message)).toBe('validation');
  });

  it('reads a problem without errors as its title', () => {
    const json = { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1', title: m.validationTitle, status: 400 };
    expect(messageOf(json, JSON.stringify(json))).toBe(m.validationTitle);
  });

  it('skips an empty message for the next member', () => {
    const json = { message: '', title: 'Bad Request' };
    expect(messageOf(json, JSON.stringify(json))).toBe('Bad Request');
  });

  it('reads an OAuth-style { error } body', () => {
    const json = { error: 'invalid_client' };
    expect(messageOf(json, JSON.stringify(json))).toBe('invalid_client');
  });

  it('reads a JSON string body', () => {
    expect(messageOf('Service busy', '"Service busy"')).toBe('Service busy');
  });

  it('reads short plain text, trimmed', () => {
    expect(messageOf(null, '  Service Unavailable\n')).toBe('Service Unavailable');
  });

  it('ignores HTML error pages', () => {
    expect(messageOf(null, '<html><body><h1>502 Bad Gateway</h1></body></html>')).toBeNull();
    expect(messageOf(null, '\n  <!DOCTYPE html><html></html>')).toBeNull();
  });

  it('ignores long plain text and empty bodies', () => {
    expect(messageOf(null, 'x'.repeat(501))).toBeNull();
    expect(messageOf(null, 'x'.repeat(500))).toBe('x'.repeat(500));
    expect(messageOf(null, '')).toBeNull();
    expect(messageOf(null, '   ')).toBeNull();
  });

  it('falls back to the short raw text of a JSON object without any message member', () => {
    const text = '{"status":500,"traceId":"x"}';
    expect(messageOf(JSON.parse(text), text)).toBe(text);
  });
});

describe('StaError', () => {
  it('names the operation, the status and STA’s message, and derives the reason', () => {
    const error = new StaError({ operation: 'create', code: 'STA_FORBIDDEN', kind: 'permanent', status: 403, staMessage: m.importDisabled });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('StaError');
    expect(error.message).toBe(`STA create failed: HTTP 403 ${m.importDisabled}`);
    expect(error.reason).toBe('import-disabled');
    expect(error.retryAfterMs).toBeNull();
    expect(error.requestMayHaveReachedSta).toBe(true);
  });

  it('names the code when no response arrived, and keeps the cause', () => {
    const cause = new Error('socket hang up');
    const error = new StaError({
      operation: 'list',
      code: 'STA_NETWORK',
      kind: 'retryable',
      status: null,
      staMessage: null,
      requestMayHaveReachedSta: false,
      cause,
    });
    expect(error.message).toBe('STA list failed: STA_NETWORK');
    expect(error.cause).toBe(cause);
    expect(error.reason).toBeNull();
    expect(error.requestMayHaveReachedSta).toBe(false);
  });

  it('keeps an explicit reason and Retry-After', () => {
    const error = new StaError({
      operation: 'get',
      code: 'STA_RATE_LIMITED',
      kind: 'rate-limited',
      status: 429,
      staMessage: 'Too Many Requests',
      retryAfterMs: 2_000,
      reason: 'validation',
    });
    expect(error.reason).toBe('validation');
    expect(error.retryAfterMs).toBe(2_000);
  });
});
