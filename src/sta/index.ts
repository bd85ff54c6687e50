export * from './documented-messages.js';
export * from './retry-after.js';
export * from './sta-client.js';
export * from './sta-error.js';
export * from './types.js';
