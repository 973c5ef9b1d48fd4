import { pino, type Logger } from 'pino';

export type { Logger };

/** The process's one logger: JSON to stdout; reconcilers take a child per `namespace/name`. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'operator' } });
}
