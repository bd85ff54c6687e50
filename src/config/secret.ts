import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Holds a secret (the STA API key, a password) so that no accidental path — string
 * interpolation, JSON.stringify, console.log, util.inspect, a pino log line — can print it.
 * Only {@link Secret.reveal} returns the value; call it where the value leaves the process
 * (the `apikey` HTTP header) and nowhere else.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
