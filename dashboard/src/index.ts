export { start, type Dashboard } from './main.js';
export { loadConfig, configDocs, helpText, ConfigError, type Config } from './config.js';
export type * from './api-types.js';
