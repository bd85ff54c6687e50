/** The fields of an export record (PRODUCT.md "Input"). */
export const RECORD_FIELDS = ['userId', 'attestationObject', 'clientDataJson', 'friendlyName', 'tenantCode', 'externalId', 'state'] as const;
export type RecordField = (typeof RECORD_FIELDS)[number];
export const REQUIRED_FIELDS: readonly RecordField[] = ['userId', 'attestationObject', 'clientDataJson'];

/** Other spellings accepted without `--map` (WebAuthn's own name for the client data). */
const ALIASES: Readonly<Partial<Record<RecordField, readonly string[]>>> = {
  clientDataJson: ['clientDataJSON'],
};

/** `--map field=column`: where each field is found in the export. */
export type FieldMap = Readonly<Partial<Record<RecordField, string>>>;

/**
 * Parses `--map` values (`field=column`).
 *
 * @returns the map, or the problems (unknown field, missing `=`), each naming the bad value.
 */
export function parseFieldMap(values: readonly string[]): { map: FieldMap; problems: string[] } {
  const map: Partial<Record<RecordField, string>> = {};
  const problems: string[] = [];
  for (const value of values) {
    const at = value.indexOf('=');
    const field = at === -1 ? '' : value.slice(0, at).trim();
    const column = at === -1 ? '' : value.slice(at + 1).trim();
    if (at === -1 || field === '' || column === '') {
      problems.push(`--map '${value}': expected field=column, e.g. --map userId=user_id`);
    } else if (!(RECORD_FIELDS as readonly string[]).includes(field)) {
      problems.push(`--map '${value}': unknown field '${field}' (fields: ${RECORD_FIELDS.join(', ')})`);
    } else {
      map[field as RecordField] = column;
    }
  }
  return { map, problems };
}

/**
 * Where each field is read from, given the names present in the export (a CSV header, or a JSON
 * record's keys): the `--map` column if given, else the field's own name or an alias, compared
 * case-insensitively.
 */
export function resolveFieldNames(available: readonly string[], map: FieldMap): Partial<Record<RecordField, string>> {
  const byLower = new Map<string, string>();
  for (const name of available) if (!byLower.has(name.toLowerCase())) byLower.set(name.toLowerCase(), name);
  const resolved: Partial<Record<RecordField, string>> = {};
  for (const field of RECORD_FIELDS) {
    const wanted = map[field] !== undefined ? [map[field]] : [field, ...(ALIASES[field] ?? [])];
    for (const name of wanted) {
      const hit = available.includes(name) ? name : byLower.get(name.toLowerCase());
      if (hit !== undefined) {
        resolved[field] = hit;
        break;
      }
    }
  }
  return resolved;
}

/** Required fields that `resolveFieldNames` could not place. */
export function missingRequired(resolved: Partial<Record<RecordField, string>>): RecordField[] {
  return REQUIRED_FIELDS.filter((field) => resolved[field] === undefined);
}

/** A record's fields under their canonical names. */
export type CanonicalFields = Partial<Record<RecordField, unknown>>;

export function canonicalFields(raw: Readonly<Record<string, unknown>>, resolved: Partial<Record<RecordField, string>>): CanonicalFields {
  const out: CanonicalFields = {};
  for (const field of RECORD_FIELDS) {
    const name = resolved[field];
    if (name !== undefined && Object.hasOwn(raw, name)) out[field] = raw[name];
  }
  return out;
}
