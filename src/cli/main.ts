import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { ExportFileError } from '../ingest/export-file.js';
import { IngestAbortedError } from '../ingest/ingest-pipeline.js';
import { IngestLockedError, IngestOptionsMismatchError } from '../ingest/run-ingest.js';
import { RunNotFoundError } from '../report/build-report.js';
import { ReportWriteError } from '../report/report-files.js';
import { CliError, EXIT, processIo, writeLine, type CliIo, type ExitCode } from './cli-io.js';
import { demoCommand } from './demo-command.js';
import { ingestCommand } from './ingest-command.js';
import { reportCommand } from './report-command.js';
import { runCommand } from './run-command.js';
import { simulatorCommand } from './simulator-command.js';
import { statusCommand } from './status-command.js';
import { workCommand } from './work-command.js';

export const VERSION = '0.1.0';

/**
 * The CLI: parses argv, runs one command, and returns its exit code (PRODUCT.md): 0 all good,
 * 1 records need attention, 2 usage/configuration, 3 aborted by the circuit breaker.
 * Expected failures print one clear line on stderr, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: ExitCode = EXIT.ok;
  const setExit = (code: ExitCode) => {
    exitCode = code;
  };
  const program = new Command('sta-migrate')
    .description('Moves FIDO authenticators from a CMS export into Thales SafeNet Trusted Access (STA).')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  for (const command of [
    demoCommand(io, setExit),
    simulatorCommand(io, setExit),
    ingestCommand(io, setExit),
    workCommand(io, setExit),
    runCommand(io, setExit),
    reportCommand(io, setExit),
    statusCommand(io, setExit),
  ]) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) }));
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error: unknown) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): ExitCode {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof ConfigError || error instanceof ExportFileError || error instanceof IngestLockedError || error instanceof IngestOptionsMismatchError || error instanceof RunNotFoundError || error instanceof ReportWriteError) {
    writeLine(io.stderr, `sta-migrate: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof IngestAbortedError) {
    writeLine(io.stderr, `sta-migrate: ${error.message}`);
    return EXIT.problems;
  }
  if (error instanceof CliError) {
    writeLine(io.stderr, `sta-migrate: ${error.message}`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeLine(io.stderr, `sta-migrate: unexpected error: ${message}`);
  if (error instanceof Error && error.stack) writeLine(io.stderr, error.stack.split('\n').slice(1, 6).join('\n'));
  return EXIT.problems;
}
