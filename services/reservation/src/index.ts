export { start, type Service, type StartOptions } from './main.js';
export {
  loadConfig,
  configDocs,
  configTable,
  configMarkdown,
  ConfigError,
  type Config,
} from './config.js';
export { migrate, migrationsDir } from './migrate.js';
export { reservationId } from './domain/ids.js';
export { ERROR_CODES, errorCodes, type ErrorCode } from './errors.js';
export { openApiDocument } from './entry-points/http/openapi.js';
