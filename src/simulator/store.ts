import type { Authenticator } from '../sta/types.js';
import type { SimAuthenticator } from './simulator-options.js';

/** The mutable record behind an authenticator; `userId` is canonical standard base64. */
export interface StoredAuthenticator {
  readonly userId: string;
  readonly id: string;
  readonly type: 'FIDO';
  state: string;
  lastUsedAuthnDateTime: string | null;
  lastSuccessAuthnDateTime: string | null;
  readonly createdDateTime: string;
  readonly metadata: {
    readonly aaguid: string;
    friendlyName: string;
    readonly rpId: string;
    readonly signatureCounter: number;
    readonly coseAlgoId: number;
    readonly provenance: 'imported' | 'inline';
  };
}

interface TenantAuthenticators {
  /** Credential id → record: the 409 check and GET/DELETE/PATCH by id are one lookup. */
  readonly byId: Map<string, StoredAuthenticator>;
  /** Canonical userId → (credential id → record), in creation order (Map keeps insertion order). */
  readonly byUser: Map<string, Map<string, StoredAuthenticator>>;
}

/** One page of a user's authenticators. */
export interface StoredPage {
  readonly totalItems: number;
  readonly items: readonly StoredAuthenticator[];
}

/** In-memory authenticators of every configured tenant. */
export class SimulatorStore {
  private readonly tenants = new Map<string, TenantAuthenticators>();
  private total = 0;

  constructor(tenantCodes: Iterable<string>) {
    for (const code of tenantCodes) this.tenants.set(code, { byId: new Map(), byUser: new Map() });
  }

  /** The record with this credential id anywhere in the tenant. */
  findById(tenantCode: string, id: string): StoredAuthenticator | undefined {
    return this.tenants.get(tenantCode)?.byId.get(id);
  }

  /** The record with this id only if it belongs to `userId` (canonical). */
  findForUser(tenantCode: string, userId: string, id: string): StoredAuthenticator | undefined {
    const record = this.findById(tenantCode, id);
    return record?.userId === userId ? record : undefined;
  }

  /** `pageSize` items of the user's authenticators from `pageIndex * pageSize`, in creation order. */
  page(tenantCode: string, userId: string, pageIndex: number, pageSize: number): StoredPage {
    const mine = this.tenants.get(tenantCode)?.byUser.get(userId);
    if (mine === undefined) return { totalItems: 0, items: [] };
    const start = pageIndex * pageSize;
    if (start >= mine.size) return { totalItems: mine.size, items: [] };
    const items: StoredAuthenticator[] = [];
    let position = 0;
    for (const record of mine.values()) {
      if (position >= start + pageSize) break;
      if (position >= start) items.push(record);
      position += 1;
    }
    return { totalItems: mine.size, items };
  }

  /** Stores a new record; `false` when the credential id is already registered in the tenant (or the tenant is unknown). */
  add(tenantCode: string, record: StoredAuthenticator): boolean {
    const tenant = this.tenants.get(tenantCode);
    if (tenant === undefined || tenant.byId.has(record.id)) return false;
    tenant.byId.set(record.id, record);
    let mine = tenant.byUser.get(record.userId);
    if (mine === undefined) {
      mine = new Map();
      tenant.byUser.set(record.userId, mine);
    }
    mine.set(record.id, record);
    this.total += 1;
    return true;
  }

  remove(tenantCode: string, record: StoredAuthenticator): void {
    const tenant = this.tenants.get(tenantCode);
    if (tenant?.byId.get(record.id) !== record) return;
    tenant.byId.delete(record.id);
    const mine = tenant.byUser.get(record.userId);
    mine?.delete(record.id);
    if (mine?.size === 0) tenant.byUser.delete(record.userId);
    this.total -= 1;
  }

  /** Every record of a tenant in creation order. */
  all(tenantCode: string): StoredAuthenticator[] {
    return [...(this.tenants.get(tenantCode)?.byId.values() ?? [])];
  }

  count(): number {
    return this.total;
  }

  clear(): void {
    for (const tenant of this.tenants.values()) {
      tenant.byId.clear();
      tenant.byUser.clear();
    }
    this.total = 0;
  }
}

/** The API's JSON for a record (a copy: callers cannot mutate the store through it). */
export function toAuthenticatorJson(record: StoredAuthenticator): Authenticator {
  return {
    id: record.id,
    type: record.type,
    state: record.state,
    lastUsedAuthnDateTime: record.lastUsedAuthnDateTime,
    lastSuccessAuthnDateTime: record.lastSuccessAuthnDateTime,
    createdDateTime: record.createdDateTime,
    metadata: { ...record.metadata },
  };
}

/** The API's JSON plus the canonical userId (control endpoints and `RunningSimulator.authenticators`). */
export function toSimAuthenticator(record: StoredAuthenticator): SimAuthenticator {
  return { ...toAuthenticatorJson(record), userId: record.userId };
}
