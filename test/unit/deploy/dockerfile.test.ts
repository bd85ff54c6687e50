/**
 * The Dockerfile, read as data: stages, users, install flags, and every path it copies, checked
 * against the repository and package.json. (No Docker engine here; the CLI commands it runs are
 * checked in compose.test.ts against the built CLI.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/cli.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly instructions: readonly Instruction[];
}

/** Instructions grouped by stage; comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: { from: string; name: string | null; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest;
      stages.push({ from: image, name: as?.toUpperCase() === 'AS' && name ? name : null, instructions: [] });
    } else {
      const current = stages.at(-1);
      if (!current) throw new Error(`instruction before FROM: ${line}`);
      current.instructions.push(instruction);
    }
  }
  return stages;
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args);
}

/** Sources and destination of a COPY, with its --from stage (null = build context). */
function copies(stage: Stage): { from: string | null; sources: string[]; destination: string }[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === 'COPY')
    .map((instruction) => {
      const words = instruction.args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length) ?? null;
      const paths = words.filter((word) => !word.startsWith('--'));
      return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' };
    });
}

/** .dockerignore patterns as matchers (`*` within a path segment; a match excludes everything below). */
function dockerignoreMatchers(text: string): { pattern: string; matches: (path: string) => boolean }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
    .map((pattern) => {
      const source = pattern.replace(/^\/+|\/+$/g, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
      const regex = new RegExp(`^${source}(/.*)?$`);
      return { pattern, matches: (path: string) => regex.test(path.replace(/^\.\//, '').replace(/\/+$/, '')) };
    });
}

const stages = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const ignore = dockerignoreMatchers(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
const runtime = stages.at(-1)!;
const build = stages.find((stage) => stage.name === 'build');
const packageJson = z
  .object({ scripts: z.record(z.string(), z.string()), devDependencies: z.record(z.string(), z.string()) })
  .parse(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')));

describe('Dockerfile stages', () => {
  it('builds in a node:20-bookworm-slim stage with npm ci and npm run build', () => {
    expect(build?.from).toBe('node:20-bookworm-slim');
    const buildRuns = build ? runs(build) : [];
    expect(buildRuns.some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(buildRuns.some((run) => /\bnpm run build\b/.test(run))).toBe(true);
  });

  it('copies into the build stage everything tsconfig.build.json compiles, before compiling', () => {
    const tsconfig = z
      .object({ extends: z.string().optional(), include: z.array(z.string()) })
      .parse(JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')));
    const instructions = build?.instructions ?? [];
    const buildAt = instructions.findIndex((instruction) => instruction.keyword === 'RUN' && instruction.args.includes('npm run build'));
    const copiedBefore = copies({ from: '', name: null, instructions: instructions.slice(0, buildAt) }).flatMap((copy) => copy.sources);
    const needed = ['tsconfig.build.json', ...(tsconfig.extends ? [tsconfig.extends.replace(/^\.\//, '')] : []), ...tsconfig.include.map((include) => include.split('/')[0] ?? include)];
    for (const path of needed) expect(copiedBefore, path).toContain(path);
  });

  it('runs from a separate node:20-bookworm-slim stage with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime).not.toBe(build);
    expect(runtime.from).toBe('node:20-bookworm-slim');
    const install = runs(runtime).find((run) => /\bnpm ci\b/.test(run)) ?? '';
    expect(install).toMatch(/--omit=dev\b/);
    // `prepare` compiles with tsc, a dev dependency absent here: lifecycle scripts must not run.
    expect(packageJson.scripts['prepare']).toMatch(/\btsc\b/);
    expect(Object.keys(packageJson.devDependencies)).toContain('typescript');
    expect(install).toMatch(/--ignore-scripts\b/);
  });

  it('skips install scripts only where no production dependency needs one', () => {
    const lock = z
      .object({ packages: z.record(z.string(), z.looseObject({ dev: z.boolean().optional(), optional: z.boolean().optional(), hasInstallScript: z.boolean().optional() })) })
      .parse(JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')));
    const required = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true && entry.dev !== true && entry.optional !== true)
      .map(([path]) => path);
    expect(required, 'production dependencies whose install script --ignore-scripts would skip').toEqual([]);
  });

  it('ships the compiled code, the launcher, the fixtures and package*.json', () => {
    const runtimeCopies = copies(runtime);
    expect(runtimeCopies).toContainEqual({ from: 'build', sources: ['/app/dist'], destination: './dist' });
    const fromContext = runtimeCopies.filter((copy) => copy.from === null).flatMap((copy) => copy.sources);
    expect(fromContext).toEqual(expect.arrayContaining(['bin', 'fixtures', 'package.json', 'package-lock.json']));
    expect(existsSync(join(REPO_ROOT, 'fixtures/demo/demo-export.csv')), 'the demo export').toBe(true);
  });

  it('copies only paths that exist and that .dockerignore lets into the build context', () => {
    const sources = stages.flatMap((stage) => copies(stage).filter((copy) => copy.from === null).flatMap((copy) => copy.sources));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), `${source} exists`).toBe(true);
      expect(ignore.filter((rule) => rule.matches(source)).map((rule) => rule.pattern), `${source} is not ignored`).toEqual([]);
    }
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    for (const path of ['.env', '.env.production', 'node_modules', 'dist', 'reports', '.git', 'fixtures/large']) {
      expect(ignore.some((rule) => rule.matches(path)), path).toBe(true);
    }
  });
});

describe('Dockerfile runtime settings', () => {
  it('runs as a non-root user', () => {
    const users = runtime.instructions.filter((instruction) => instruction.keyword === 'USER').map((instruction) => instruction.args.split(':')[0]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
    // Nothing after the last USER may run as root again.
    const lastUser = runtime.instructions.findLastIndex((instruction) => instruction.keyword === 'USER');
    expect(runtime.instructions.slice(lastUser + 1).filter((instruction) => instruction.keyword === 'RUN')).toEqual([]);
  });

  it('starts bin/sta-migrate.js with node', () => {
    const entrypoint = runtime.instructions.find((instruction) => instruction.keyword === 'ENTRYPOINT');
    expect(JSON.parse(entrypoint?.args ?? 'null')).toEqual(['node', 'bin/sta-migrate.js']);
    const workdir = runtime.instructions.find((instruction) => instruction.keyword === 'WORKDIR')?.args;
    const binCopy = copies(runtime).find((copy) => copy.sources.includes('bin'));
    // bin/ lands in the working directory, where the relative entrypoint looks for it.
    expect(binCopy?.destination.replace(/^\.\//, `${workdir ?? ''}/`)).toBe(`${workdir ?? ''}/bin`);
    expect(existsSync(join(REPO_ROOT, 'bin/sta-migrate.js'))).toBe(true);
  });

  it('declares a health check that runs the CLI in exec form', () => {
    const healthcheck = runtime.instructions.find((instruction) => instruction.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/--timeout=\d+s/);
    const exec = /CMD\s+(\[.*\])$/.exec(healthcheck?.args ?? '')?.[1] ?? 'null';
    expect(JSON.parse(exec)).toEqual(expect.arrayContaining(['node', 'bin/sta-migrate.js']));
  });
});
