export * from './result.js';
export * from './base64url.js';
export * from './cbor.js';
export * from './cose.js';
export * from './auth-data.js';
export * from './client-data.js';
export * from './attestation-object.js';
export * from './registration.js';
