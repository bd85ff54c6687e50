import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

export interface ProgressState {
  /** Records with a final outcome (or read, for ingest). */
  readonly done: number;
  /** Records known so far (grows while ingest reads). */
  readonly total: number;
  readonly failed: number;
}

export interface Progress {
  update(state: ProgressState): void;
  /** Writes a line without breaking the bar. */
  log(line: string): void;
  stop(): void;
}

/**
 * A live bar (done/total, rate, ETA, failures) on a TTY; on anything else a pino line every
 * `intervalMs`, so logs stay greppable and CI output stays short.
 */
export function createProgress(options: {
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly logger: Logger;
  readonly label: string;
  readonly intervalMs?: number;
}): Progress {
  const started = Date.now();
  const rate = (done: number) => (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1);
  if (options.stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: options.stream,
        format: `${options.label} {bar} {value}/{total} | {rate}/s | ETA {eta_formatted} | failed {failed}`,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(0, 0, { rate: '0.0', failed: 0 });
    return {
      update: (state) => {
        bar.setTotal(Math.max(state.total, state.done));
        bar.update(state.done, { rate: rate(state.done), failed: state.failed });
      },
      log: (line) => {
        options.stream.write(`\r\u001b[2K${line}\n`);
      },
      stop: () => {
        bar.stop();
      },
    };
  }
  let last = 0;
  let latest: ProgressState | null = null;
  const emit = () => {
    if (latest) options.logger.info({ done: latest.done, total: latest.total, failed: latest.failed, perSecond: Number(rate(latest.done)) }, options.label);
  };
  return {
    update: (state) => {
      latest = state;
      if (Date.now() - last >= (options.intervalMs ?? 5000)) {
        last = Date.now();
        emit();
      }
    },
    log: (line) => {
      options.logger.info(line);
    },
    stop: emit,
  };
}
