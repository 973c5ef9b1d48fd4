import { pino, type Logger } from 'pino';

export type { Logger };

/** The process's one logger: JSON to stdout, secrets redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'reservation' },
    redact: {
      paths: ['req.headers.authorization', 'config.ADMIN_TOKEN', 'config.DATABASE_URL'],
      censor: '[redacted]',
    },
  });
}
