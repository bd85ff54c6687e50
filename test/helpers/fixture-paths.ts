/**
 * Absolute paths of the committed fixtures (see fixtures/README.md), and what the dirty ones hold.
 */
import { fileURLToPath } from 'node:url';
import { DEMO_EXPORT_PATH, DEMO_SETUP_PATH } from '../../fixtures/demo-export.js';
import { DIRTY_FILES, type DirtyFileSpec } from '../../fixtures/dirty-exports.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** Absolute path of a file given relative to fixtures/ (e.g. "exports/sample.csv"). */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../../fixtures/${relative}`, import.meta.url));
}

/** The committed valid exports (rpId login.example.com, 15 users, tenantCode empty). */
export const SAMPLE_EXPORT_PATHS = {
  csv: fixturePath('exports/sample.csv'),
  json: fixturePath('exports/sample.json'),
  ndjson: fixturePath('exports/sample.ndjson'),
  jsonWrapped: fixturePath('exports/sample-wrapped.json'),
} as const;

export const DEMO_PATHS = {
  export: fixturePath(DEMO_EXPORT_PATH),
  setup: fixturePath(DEMO_SETUP_PATH),
} as const;

type DirtyName = keyof typeof DIRTY_FILES;

/** Each dirty file: absolute path plus its good/bad record counts and description. */
export const DIRTY_FIXTURES = Object.fromEntries(
  Object.entries(DIRTY_FILES).map(([name, spec]) => [name, { ...spec, path: fixturePath(spec.path) }]),
) as Record<DirtyName, DirtyFileSpec>;
