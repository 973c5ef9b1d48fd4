import { pino, type Logger } from 'pino';
import { secretSettings } from './config.js';

export type { Logger };

/** The process's one logger: JSON to stdout, secrets (from the config table) redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'dashboard' },
    redact: {
      paths: ['req.headers.authorization', ...secretSettings.map((k) => `config.${k}`)],
      censor: '[redacted]',
    },
  });
}
