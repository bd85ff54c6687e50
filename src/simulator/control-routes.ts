import type { IncomingHttpHeaders } from 'node:http';
import { staMessage } from '../sta/documented-messages.js';
import { parseFaultsPatch } from './faults-validation.js';
import type { FaultController } from './faults.js';
import { importAuthenticator } from './import-authenticator.js';
import { parseInjection, type InjectionQueue } from './injections.js';
import { parseCreateBody, parseJsonBody } from './request-bodies.js';
import { jsonOk, plainError, type SimResponse } from './sim-response.js';
import { userExists, type SimulatorConfig } from './simulator-config.js';
import type { StatsCounter } from './stats.js';
import { toSimAuthenticator, type SimulatorStore } from './store.js';
import { canonicalUserId } from './user-id.js';

/** What the control endpoints read and change. */
export interface ControlContext {
  readonly config: SimulatorConfig;
  readonly store: SimulatorStore;
  readonly faults: FaultController;
  readonly stats: StatsCounter;
  readonly injections: InjectionQueue;
  readonly now: () => Date;
}

/** A request under `/_sim`. Segments are decoded; `segments[1]` is '_sim'. */
export interface ControlRequest {
  readonly method: string;
  readonly segments: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Test controls. They need no apikey, are not subject to faults and are not counted in the stats.
 * Errors are `{ status, message }` with a message meant for a developer (these are not STA routes).
 * User ids in control paths are base64 unless the request sends `Object-Id-Format: hex`.
 */
export function handleControlRequest(context: ControlContext, request: ControlRequest): SimResponse {
  const [, , first, tenantCode, , userId, , authenticatorId] = request.segments;
  const length = request.segments.length;
  const route = `${request.method} ${length === 3 ? (first ?? '') : shape(request.segments)}`;
  switch (route) {
    case 'GET stats':
      return jsonOk(context.stats.snapshot(context.store.count()));
    case 'POST reset':
      // Configuration (tenants, keys, users, faults) stays; state and counters go.
      context.store.clear();
      context.stats.clear();
      context.injections.clear();
      context.faults.resetWindow();
      return jsonOk({ reset: true });
    case 'GET faults':
      return jsonOk(context.faults.current);
    case 'PUT faults': {
      const patch = parseFaultsPatch(parseJsonBody(request.body));
      if (!patch.ok) return plainError(400, patch.reason);
      context.faults.update(patch.value);
      return jsonOk(context.faults.current);
    }
    case 'POST inject': {
      const injection = parseInjection(parseJsonBody(request.body));
      if (!injection.ok) return plainError(400, injection.reason);
      const queued = context.injections.push(injection.value);
      return jsonOk({ ...injection.value, queued });
    }
    case 'GET tenants/*/authenticators':
      if (tenantCode === undefined || !context.config.tenants.has(tenantCode)) return plainError(404, `unknown tenant '${tenantCode ?? ''}'`);
      return jsonOk(context.store.all(tenantCode).map(toSimAuthenticator));
    case 'POST tenants/*/users/*/authenticators':
      return seedAuthenticator(context, request, tenantCode ?? '', userId ?? '');
    case 'POST tenants/*/users/*/authenticators/*/activate':
      return activate(context, request, tenantCode ?? '', userId ?? '', authenticatorId ?? '');
    default:
      return plainError(404, 'Not Found');
  }
}

// The route shape of a path: literal segments kept, id segments replaced by `*` (e.g. `tenants/*/authenticators`).
function shape(segments: readonly string[]): string {
  const literalPositions = new Set([2, 4, 6, 8]);
  return segments
    .slice(2)
    .map((segment, index) => (literalPositions.has(index + 2) ? segment : '*'))
    .join('/');
}

function resolveUser(context: ControlContext, request: ControlRequest, tenantCode: string, userId: string): string | SimResponse {
  if (!context.config.tenants.has(tenantCode)) return plainError(404, staMessage.tenantNotFound(tenantCode));
  const format = request.headers['object-id-format']?.toString().trim().toLowerCase() === 'hex' ? 'hex' : 'base64';
  const canonical = canonicalUserId(userId, format);
  if (canonical === null || !userExists(context.config.users, tenantCode, canonical)) return plainError(404, staMessage.userNotFound(format, userId));
  return canonical;
}

/**
 * Seeds an authenticator without the apikey and import checks (plan, console toggle), e.g. an
 * "inline" one registered in STA itself. The tenant and user must exist so the store stays
 * consistent with what the API reports. Body: the API's POST body plus optional `"provenance"`.
 */
function seedAuthenticator(context: ControlContext, request: ControlRequest, tenantCode: string, userId: string): SimResponse {
  const user = resolveUser(context, request, tenantCode, userId);
  if (typeof user !== 'string') return user;
  const parsed = parseCreateBody(request.body);
  if (!parsed.ok) return plainError(400, parsed.message);
  const provenance = parsed.value.provenance ?? 'imported';
  if (provenance !== 'imported' && provenance !== 'inline') return plainError(400, "provenance must be 'imported' or 'inline'");
  const outcome = importAuthenticator(
    context.store,
    { tenantCode, userId: user, provenance, createdDateTime: context.now().toISOString() },
    parsed.value,
  );
  switch (outcome.kind) {
    case 'created':
      return jsonOk(toSimAuthenticator(outcome.record));
    case 'duplicate':
      return plainError(409, `authenticator '${outcome.id}' is already registered in tenant ${tenantCode}`);
    case 'undecodable':
      return plainError(400, `registration does not decode: ${outcome.reason}`);
  }
}

/**
 * Completes the user's activation flow (PRODUCT.md): pending → active. Decisions: an already
 * active authenticator answers 200 unchanged (idempotent); a suspended one answers 409 (an
 * administrator suspended it — activation does not override that). Activation is a successful
 * authentication, so both "last authn" times are set to now.
 */
function activate(context: ControlContext, request: ControlRequest, tenantCode: string, userId: string, authenticatorId: string): SimResponse {
  const user = resolveUser(context, request, tenantCode, userId);
  if (typeof user !== 'string') return user;
  const record = context.store.findForUser(tenantCode, user, authenticatorId);
  if (record === undefined) return plainError(404, staMessage.authenticatorNotFound(authenticatorId));
  if (record.state === 'suspended') return plainError(409, 'a suspended authenticator cannot be activated');
  if (record.state === 'pending') {
    const now = context.now().toISOString();
    record.state = 'active';
    record.lastUsedAuthnDateTime = now;
    record.lastSuccessAuthnDateTime = now;
  }
  return jsonOk(toSimAuthenticator(record));
}
