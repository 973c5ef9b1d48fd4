export { Stack, type StackState, type StartOptions } from './stack.js';
export { SERVER_NAMES, type ServerName } from './servers.js';
export { freePort, run, waitUntil } from './process.js';
export { kubeBin, goTool, repoRoot, versions } from './tools.js';
