export { start, type Service } from './main.js';
export { loadConfig, configDocs, ConfigError, type Config } from './config.js';
export { migrate, migrationsDir } from './migrate.js';
export { reservationId } from './ids.js';
export { openApiDocument } from './http/openapi.js';
