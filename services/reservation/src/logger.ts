// The process's one logger: JSON lines to stdout, the current request id on every line written
// while serving a request, and secrets kept out of every line.
import {
  pino,
  stdSerializers,
  type DestinationStream,
  type Logger,
  type LoggerOptions as PinoOptions,
} from 'pino';
import { redactedConfigPaths } from './config.js';
import { currentRequest } from './context.js';

export type { Logger };

export interface LoggerOptions {
  /** Strings that must never reach a log line (secretValues(config)). */
  secrets?: readonly string[];
  /** Where lines go; stdout when absent (tests pass a stream). */
  destination?: DestinationStream;
}

/**
 * Secrets shorter than this are not scrubbed from lines: replacing one or two characters
 * everywhere would garble every line, and a value that short protects nothing anyway.
 */
const MIN_SCRUBBED_LENGTH = 4;

/** Replaces each secret, as it appears in a JSON line, by [redacted]. */
function scrubber(secrets: readonly string[]): ((line: string) => string) | undefined {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SCRUBBED_LENGTH) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  if (!forms.size) return undefined;
  // Longest first, so a secret that contains another is replaced whole.
  const list = [...forms].sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const f of list) if (out.includes(f)) out = out.replaceAll(f, '[redacted]');
    return out;
  };
}

/** The process's one logger. */
export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const scrub = scrubber(opts.secrets ?? []);
  const options: PinoOptions = {
    level,
    base: { service: 'reservation' },
    // The request id of the request being served, on every line (see context.ts).
    mixin: () => {
      const ctx = currentRequest();
      return ctx ? { requestId: ctx.requestId } : {};
    },
    // Errors with their whole cause chain (adapters wrap the driver's error as `cause`).
    serializers: { err: stdSerializers.errWithCause },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', ...redactedConfigPaths],
      censor: '[redacted]',
    },
    ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
