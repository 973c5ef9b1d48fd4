// vitest globalSetup: one test bed for the whole run, shared by every project that lists it.
// A stack already started by `make stack-up` (TESTBED_STATE in the environment) is reused and left
// running; otherwise one is started here and always stopped at the end, and a reaper process
// stops it should this run be killed before teardown.
import { Stack } from './stack.js';
import { SERVER_NAMES, type ServerName } from './servers.js';

interface Shared {
  users: number;
  stack?: Stack;
  starting?: Promise<Stack | undefined>;
}
const shared = ((globalThis as { __flashsaleTestbed?: Shared }).__flashsaleTestbed ??= {
  users: 0,
});

/** TESTBED_SERVERS=postgres,redis limits the servers started (default: all). */
function wanted(): ServerName[] {
  const list = process.env.TESTBED_SERVERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list?.length) return [...SERVER_NAMES];
  const unknown = list.filter((s) => !(SERVER_NAMES as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(
      `TESTBED_SERVERS: unknown ${unknown.join(', ')}; known: ${SERVER_NAMES.join(', ')}`,
    );
  return list as ServerName[];
}

export default async function setup(): Promise<() => Promise<void>> {
  shared.users++;
  shared.starting ??= (async () => {
    const external = process.env.TESTBED_STATE;
    if (external && Stack.isUp(external)) {
      Object.assign(process.env, Stack.attach(external).env);
      return undefined;
    }
    const stack = await Stack.start({ servers: wanted(), reapWhenGone: process.pid });
    Object.assign(process.env, stack.env);
    return stack;
  })();
  shared.stack = await shared.starting;
  return async () => {
    if (--shared.users === 0) await shared.stack?.stop();
  };
}
