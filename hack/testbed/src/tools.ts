import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is hack/testbed/src/tools.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Tool versions, read from hack/versions.env, the one place they are chosen. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(repoRoot, 'hack/versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

/** Where hack/tools.sh caches the binaries it builds. */
export function toolCache(): string {
  const cache =
    process.env.FLASHSALE_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'flashsale');
  return join(cache, 'bin');
}

function need(path: string, hint: string): string {
  if (!existsSync(path)) throw new Error(`${path} not found: ${hint}`);
  return path;
}

/** Path of a Kubernetes binary built by `make tools`. */
export function kubeBin(name: string): string {
  return need(
    join(toolCache(), `kubernetes-${versions().KUBERNETES_VERSION}`, name),
    'run `make tools` first',
  );
}

/** Path of a Go-built tool (helm, k6, coredns, nats-server) cached by `make tools`. */
export function goTool(name: 'helm' | 'k6' | 'coredns' | 'nats-server'): string {
  const key = `${name.replace('-server', '_SERVER').toUpperCase()}_VERSION`;
  return need(join(toolCache(), `${name}-${versions()[key]}`), 'run `make tools` first');
}

/** The newest installed PostgreSQL server's bin directory (Debian keeps them versioned). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((d) => /^\d+$/.test(d)) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server not installed: run `make tools`');
  return join(base, newest, 'bin');
}
