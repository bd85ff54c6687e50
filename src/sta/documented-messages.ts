/**
 * Every response message of STA's authenticator management API document
 * (../shared/sta-api/authenticator-management-api.txt), character for character — including the
 * document's typographic quotes (‘ ’) and the differences between operations (a trailing period,
 * "base64(default)"). The simulator answers with these, the client classifies by them, and the
 * tests check that each one is produced.
 */
export const STA_MESSAGES = {
  tenantCodeEmpty: 'The tenantCode cannot be null or empty.',
  userIdEmpty: 'The userId cannot be null or empty.',
  authenticatorIdEmpty: 'The authenticatorId cannot be null or empty.',
  authenticatorIdNotBase64Url: 'The authenticatorId is not base64URL encoded.',
  pageIndexRange: 'The page index must be greater than or equal to 0. Parameter name: pageIndex',
  pageSizeRange: 'The page size must be between 1 and 20. Parameter name: pageSize',
  /** GET list. */
  objectIdFormatDefault: 'Object-Id-Format must be either base64(default) or hex. Parameter name: Object-Id-Format',
  /** GET one and DELETE end with a period. */
  objectIdFormatDefaultPeriod: 'Object-Id-Format must be either base64(default) or hex. Parameter name: Object-Id-Format.',
  /** POST and PATCH. */
  objectIdFormat: 'Object-Id-Format must be either base64 or hex. Parameter name: Object-Id-Format',
  authenticatorNull: 'Authenticator cannot be null.',
  attestationObjectNotBase64Url: 'AttestationObject is not base64URL encoded.',
  clientDataJsonNotBase64Url: 'ClientDataJson is not base64URL encoded.',
  userIdentifierFormatException: 'The User Identifier Format Exception.',
  userIdentifierFormat: 'User Identifier Format.',
  operationNotAllowed: 'Operation Not Allowed Exception.',
  validationTitle: 'One or more validation errors occurred.',
  noApiKey: 'No API key found in request.',
  noTenantPermission: 'You do not have permission to access this tenant.',
  invalidCredentials: 'Invalid authentication credentials.',
  planExcludesFeature: 'Your current product plan does not include this functionality.',
  importDisabled:
    'Unable to import the FIDO authenticator, because importing via the API is disabled on the STA Access Management console.',
  deleteOwnImported:
    'Unable to delete the FIDO authenticator for the user, because the user is associated with the API key that authenticated this request, and the authenticator was imported with the API.',
  alreadyInUse: 'The authenticator is already in use.',
  userNotFoundException: 'The User Not Found Exception.',
  tenantNotFoundException: 'The Tenant Not Found Exception.',
  authenticatorNotFoundException: 'The Authenticator Not Found Exception.',
  serviceException: 'Authenticator Service Exception.',
  internalServerError: 'Internal Server Error.',
  imported: 'Authenticator imported.',
} as const;

/** `Object-Id-Format` header values. */
export type ObjectIdFormat = 'base64' | 'hex';

/** Messages that carry a value from the request. */
export const staMessage = {
  tenantNotFound: (tenantCode: string) => `The tenant code ‘${tenantCode}’ does not exist.`,
  /** GET list, GET one, POST. */
  userNotFound: (format: ObjectIdFormat, userId: string) => `${format} userId ‘${userId}’ was not found.`,
  /** PATCH. */
  userNotFoundThe: (format: ObjectIdFormat, userId: string) => `The ${format} userId ‘${userId}’ was not found.`,
  /** DELETE. */
  userUserIdNotFound: (userId: string) => `The user userId ‘${userId}’ was not found.`,
  authenticatorNotFound: (authenticatorId: string) => `The authenticator ID ‘${authenticatorId}’ was not found.`,
  /** Item of the validation problem body for a non-numeric query value. */
  valueNotValid: (value: string) => `The value ‘${value}’ is not valid.`,
} as const;

/** The five operations of the API. */
export type StaOperation = 'list' | 'create' | 'get' | 'delete' | 'update';

/** A documented (status, message) pair; `pattern` matches the parameterised ones. */
export interface DocumentedResponse {
  readonly status: number;
  readonly message: string;
  readonly pattern?: RegExp;
}

const quoted = '‘[^’]*’';
const tenantNotFound = { status: 404, message: staMessage.tenantNotFound('{tenantCode}'), pattern: new RegExp(`^The tenant code ${quoted} does not exist\\.$`) };
const userNotFound = (format: ObjectIdFormat) => ({
  status: 404,
  message: staMessage.userNotFound(format, '{userId}'),
  pattern: new RegExp(`^${format} userId ${quoted} was not found\\.$`),
});
const authenticatorNotFound = { status: 404, message: staMessage.authenticatorNotFound('{authenticatorId}'), pattern: new RegExp(`^The authenticator ID ${quoted} was not found\\.$`) };
const unauthorized = [STA_MESSAGES.noApiKey, STA_MESSAGES.noTenantPermission, STA_MESSAGES.invalidCredentials].map((message) => ({ status: 401, message }));
const serverErrors = [STA_MESSAGES.serviceException, STA_MESSAGES.internalServerError].map((message) => ({ status: 500, message }));
const m = STA_MESSAGES;

/** Every response the document lists, per operation: the checklist the simulator tests walk. */
export const DOCUMENTED_RESPONSES: Readonly<Record<StaOperation, readonly DocumentedResponse[]>> = {
  list: [
    { status: 200, message: 'Ok' },
    ...[m.tenantCodeEmpty, m.pageIndexRange, m.pageSizeRange, m.objectIdFormatDefault, m.validationTitle].map((message) => ({ status: 400, message })),
    ...unauthorized,
    tenantNotFound,
    userNotFound('base64'),
    userNotFound('hex'),
    ...serverErrors,
  ],
  create: [
    { status: 200, message: m.imported },
    ...[m.tenantCodeEmpty, m.userIdEmpty, m.objectIdFormat, m.authenticatorNull, m.attestationObjectNotBase64Url, m.clientDataJsonNotBase64Url].map(
      (message) => ({ status: 400, message }),
    ),
    ...unauthorized,
    { status: 403, message: m.planExcludesFeature },
    { status: 403, message: m.importDisabled },
    userNotFound('base64'),
    userNotFound('hex'),
    tenantNotFound,
    { status: 409, message: m.alreadyInUse },
    ...serverErrors,
  ],
  get: [
    { status: 200, message: 'Ok' },
    ...[m.tenantCodeEmpty, m.userIdEmpty, m.authenticatorIdEmpty, m.objectIdFormatDefaultPeriod, m.authenticatorIdNotBase64Url].map((message) => ({
      status: 400,
      message,
    })),
    ...unauthorized,
    tenantNotFound,
    userNotFound('base64'),
    userNotFound('hex'),
    authenticatorNotFound,
    ...serverErrors,
  ],
  delete: [
    { status: 204, message: 'No Content' },
    ...[m.tenantCodeEmpty, m.userIdEmpty, m.authenticatorIdEmpty, m.objectIdFormatDefaultPeriod, m.authenticatorIdNotBase64Url, m.userIdentifierFormatException].map(
      (message) => ({ status: 400, message }),
    ),
    ...unauthorized,
    { status: 403, message: m.deleteOwnImported },
    { status: 404, message: staMessage.userUserIdNotFound('{userId}'), pattern: new RegExp(`^The user userId ${quoted} was not found\\.$`) },
    tenantNotFound,
    authenticatorNotFound,
    ...serverErrors,
  ],
  update: [
    { status: 200, message: 'Ok' },
    ...[
      m.tenantCodeEmpty,
      m.userIdEmpty,
      m.objectIdFormat,
      m.userIdentifierFormat,
      m.authenticatorNull,
      m.authenticatorIdEmpty,
      m.authenticatorIdNotBase64Url,
      m.operationNotAllowed,
    ].map((message) => ({ status: 400, message })),
    ...unauthorized,
    { status: 404, message: staMessage.userNotFoundThe('base64', '{userId}'), pattern: new RegExp(`^The base64 userId ${quoted} was not found\\.$`) },
    { status: 404, message: staMessage.userNotFoundThe('hex', '{userId}'), pattern: new RegExp(`^The hex userId ${quoted} was not found\\.$`) },
    tenantNotFound,
    authenticatorNotFound,
    { status: 404, message: m.userNotFoundException },
    { status: 404, message: m.tenantNotFoundException },
    { status: 404, message: m.authenticatorNotFoundException },
    ...serverErrors,
  ],
};
