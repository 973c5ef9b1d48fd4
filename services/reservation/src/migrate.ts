// `node dist/migrate.js`: applies the migrations in ../migrations (a Kubernetes Job runs this
// before the pods roll). Safe to run concurrently: node-pg-migrate takes an advisory lock.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { loadConfig, secretValues } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { isMain } from './is-main.js';

export const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies every pending migration to the database; returns the names applied. */
export async function migrate(databaseUrl: string, log: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    singleTransaction: true,
    logger: {
      debug: (m) => log.debug(m),
      info: (m) => log.debug(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
  });
  return applied.map((m) => m.name);
}

if (isMain(import.meta.url)) {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { secrets: secretValues(config) });
  migrate(config.DATABASE_URL, log).then(
    (names) => log.info({ applied: names }, `migrations done (${names.length} applied)`),
    (err: unknown) => {
      log.fatal({ err }, 'migrations failed');
      process.exitCode = 1;
    },
  );
}
