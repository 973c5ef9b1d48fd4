#!/usr/bin/env -S npx tsx
// flashsale-stack up|down|env: the test bed's servers for a developer's shell (make stack-up /
// make stack-down). `up` is idempotent and prints the environment to source; `down` stops every
// process and removes the folder.
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_NAMES, type ServerName } from './servers.js';
import { Stack } from './stack.js';

const root = process.env.TESTBED_STACK_ROOT ?? join(tmpdir(), 'flashsale-stack');
const stateFile = join(root, 'stack.json');
const envFile = join(root, 'env');

function exportsOf(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
}

async function up(servers: ServerName[]): Promise<void> {
  if (Stack.isUp(stateFile)) {
    console.error(`stack already up (${root})`);
  } else {
    if (existsSync(stateFile)) await Stack.attach(stateFile).stop(); // a half-dead earlier stack
    const stack = await Stack.start({ root, servers });
    writeFileSync(envFile, exportsOf(stack.env) + '\n');
  }
  console.log(exportsOf(Stack.attach(stateFile).env));
  console.error(`\nto use it: source ${envFile}   (make stack-down stops it)`);
}

async function down(): Promise<void> {
  if (!existsSync(stateFile)) {
    console.error('no stack running');
    return;
  }
  await Stack.attach(stateFile).stop();
  console.error(`stack stopped, ${root} removed`);
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const serversArg = rest.find((a) => a.startsWith('--servers='))?.slice('--servers='.length);
  const servers = (serversArg ? serversArg.split(',') : [...SERVER_NAMES]) as ServerName[];
  const unknown = servers.filter((s) => !(SERVER_NAMES as readonly string[]).includes(s));
  if (unknown.length) {
    console.error(`unknown server ${unknown.join(', ')}; known: ${SERVER_NAMES.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  switch (cmd) {
    case 'up':
      return up(servers);
    case 'down':
      return down();
    case 'env':
      if (!Stack.isUp(stateFile)) throw new Error('no stack running: make stack-up');
      console.log(exportsOf(Stack.attach(stateFile).env));
      return;
    default:
      console.error(`usage: flashsale-stack up [--servers=${SERVER_NAMES.join(',')}] | down | env`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
