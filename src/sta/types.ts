import type { ObjectIdFormat } from './documented-messages.js';

/** Authenticator states STA reports; others ("locked", …) may appear and are kept as strings. */
export type AuthenticatorState = 'active' | 'pending' | 'suspended' | (string & {});

/** FIDO metadata STA returns for an authenticator. */
export interface FidoMetadata {
  readonly aaguid: string;
  readonly friendlyName: string;
  readonly rpId: string;
  /** Number of successful authentications the authenticator reported. */
  readonly signatureCounter: number;
  readonly coseAlgoId: number;
  /** "imported" (through this API) or "inline" (registered in STA). */
  readonly provenance: 'imported' | 'inline' | (string & {});
}

/** An authenticator as STA returns it. `id` is the credential id, base64url. */
export interface Authenticator {
  readonly id: string;
  readonly type: string;
  readonly state: AuthenticatorState;
  readonly lastUsedAuthnDateTime: string | null;
  readonly lastSuccessAuthnDateTime: string | null;
  readonly createdDateTime: string;
  readonly metadata: FidoMetadata;
}

/** One page of `GET …/authenticators`. `pageIndex` is zero-based. */
export interface AuthenticatorPage {
  readonly page: {
    readonly totalItems: number;
    readonly pageIndex: number;
    readonly pageSize: number;
    readonly totalPages: number;
    readonly items: readonly Authenticator[];
  };
  readonly links: {
    readonly first: string | null;
    readonly self: string | null;
    readonly last: string | null;
    readonly prev: string | null;
    readonly next: string | null;
  };
  readonly itemType: 'Authenticator';
}

/** Body of `POST …/authenticators` (the document's "Request data"). */
export interface CreateAuthenticatorRequest {
  readonly type: 'FIDO';
  readonly metadata: {
    readonly attestation: {
      /** base64url clientDataJSON. */
      readonly clientDataJson: string;
      /** base64url CBOR attestation object. */
      readonly attestationObject: string;
    };
    readonly friendlyName?: string;
  };
}

/** Body of `PATCH …/authenticators/{id}`. */
export interface UpdateAuthenticatorRequest {
  readonly state?: 'active' | 'suspended' | 'pending';
  readonly metadata?: { readonly friendlyName?: string };
}

/** Addresses one user of one tenant; `userId` is in the client's Object-Id-Format. */
export interface UserRef {
  readonly tenantCode: string;
  readonly userId: string;
}

export type { ObjectIdFormat };
