/**
 * Builds dist/ once before any test runs, when a source file is newer than the build: the e2e
 * tests spawn the CLI as users run it (`node bin/sta-migrate.js`), and a test file that rebuilt
 * dist/ itself could pull files from under another that is spawning it.
 */
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newestMtimeMs(dir: string, match: (name: string) => boolean): number {
  let newest = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) newest = Math.max(newest, newestMtimeMs(path, match));
    else if (match(name)) newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const isSource = (name: string) => name.endsWith('.ts');
  const sources = Math.max(...['src', 'jobs', 'fixtures'].map((dir) => newestMtimeMs(join(ROOT, dir), isSource)), statSync(join(ROOT, 'tsconfig.json')).mtimeMs);
  const built = newestMtimeMs(join(ROOT, 'dist'), (name) => name.endsWith('.js'));
  if (built < sources) execSync('npm run build --silent', { cwd: ROOT, stdio: 'inherit' });
}
