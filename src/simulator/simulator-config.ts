import type { SimApiKey, SimTenant, SimulatorOptions } from './simulator-options.js';
import { canonicalUserId } from './user-id.js';

/** An API key with its scope resolved for O(1) checks. */
export interface ResolvedApiKey {
  readonly tenants: ReadonlySet<string> | '*';
  /** Canonical base64, or null when the key belongs to no user. */
  readonly ownerUserId: string | null;
}

/** Which users exist: every well-formed id, the same set in every tenant, or a set per tenant. */
export type UserDirectory =
  | { readonly kind: 'any' }
  | { readonly kind: 'all-tenants'; readonly users: ReadonlySet<string> }
  | { readonly kind: 'per-tenant'; readonly users: ReadonlyMap<string, ReadonlySet<string>> };

/** The options, validated once and indexed (the per-request checks are Map/Set lookups). */
export interface SimulatorConfig {
  readonly tenants: ReadonlyMap<string, SimTenant>;
  readonly apiKeys: ReadonlyMap<string, ResolvedApiKey>;
  readonly users: UserDirectory;
}

const DEFAULT_TENANTS: readonly SimTenant[] = [{ code: 'DEMO' }];
const DEFAULT_API_KEYS: readonly SimApiKey[] = [{ key: 'sim-key', tenants: '*' }];

/** Validates and indexes the options. Throws TypeError on a user id that is not strict standard base64. */
export function resolveConfig(options: SimulatorOptions): SimulatorConfig {
  const tenants = new Map((options.tenants ?? DEFAULT_TENANTS).map((tenant) => [tenant.code, tenant] as const));
  const apiKeys = new Map(
    (options.apiKeys ?? DEFAULT_API_KEYS).map((apiKey) => {
      const resolved: ResolvedApiKey = {
        tenants: apiKey.tenants === '*' ? '*' : new Set(apiKey.tenants),
        ownerUserId: apiKey.ownerUserId === undefined ? null : requireBase64(apiKey.ownerUserId, 'apiKeys[].ownerUserId'),
      };
      return [apiKey.key, resolved] as const;
    }),
  );
  return { tenants, apiKeys, users: resolveUsers(options.users) };
}

function resolveUsers(users: SimulatorOptions['users']): UserDirectory {
  if (users === undefined) return { kind: 'any' };
  if (isReadonlyArray(users)) return { kind: 'all-tenants', users: new Set(users.map((id) => requireBase64(id, 'users'))) };
  const perTenant = new Map<string, ReadonlySet<string>>();
  for (const [tenantCode, ids] of Object.entries(users)) {
    perTenant.set(tenantCode, new Set(ids.map((id) => requireBase64(id, `users.${tenantCode}`))));
  }
  return { kind: 'per-tenant', users: perTenant };
}

function isReadonlyArray(value: SimulatorOptions['users']): value is readonly string[] {
  return Array.isArray(value);
}

function requireBase64(userId: string, where: string): string {
  const canonical = canonicalUserId(userId, 'base64');
  if (canonical === null) throw new TypeError(`simulator option ${where}: '${userId}' is not strict standard base64`);
  return canonical;
}

/** Whether the user (canonical base64) exists in the tenant. */
export function userExists(directory: UserDirectory, tenantCode: string, userId: string): boolean {
  switch (directory.kind) {
    case 'any':
      return true;
    case 'all-tenants':
      return directory.users.has(userId);
    case 'per-tenant':
      return directory.users.get(tenantCode)?.has(userId) ?? false;
  }
}
