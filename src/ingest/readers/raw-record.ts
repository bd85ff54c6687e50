/** One record as read from an export, before pre-flight. */
export type RawRecord =
  | {
      readonly ok: true;
      /** Ordinal of the record in its file, from 0. */
      readonly index: number;
      /** `file:line` (CSV, NDJSON) or `file:#index` (JSON). */
      readonly source: string;
      /** Field values as written (strings in CSV; any JSON value in JSON). */
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | {
      readonly ok: false;
      readonly index: number;
      readonly source: string;
      /** Why this record could not be read at all. */
      readonly reason: string;
    };

/** Upper bound on one record's text; past it the record is rejected and reading resumes after it. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;
