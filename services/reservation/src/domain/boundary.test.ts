// The domain-import boundary is held by ESLint (eslint.config.js); this proves the rule is there
// and fails: a file planted in domain/ that imports a forbidden library gets the rule's error,
// and one that imports only the domain's own modules gets none.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const planted: string[] = [];

async function lint(source: string): Promise<string[]> {
  const file = fileURLToPath(
    new URL(`./planted-${randomBytes(4).toString('hex')}.ts`, import.meta.url),
  );
  planted.push(file);
  await writeFile(file, source);
  // The repository's own config, with only the boundary rule run and without type information
  // (the rule needs none, and building the TypeScript program would take seconds).
  const eslint = new ESLint({
    cwd: root,
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
    },
  });
  const [result] = await eslint.lintFiles([file]);
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

afterAll(async () => {
  await Promise.all(planted.map((f) => rm(f, { force: true })));
});

describe('the domain boundary', () => {
  it('when a domain file imports a driver, framework or telemetry library, then ESLint fails it', async () => {
    const messages = await lint(
      [
        "import { Redis } from 'ioredis';",
        "import type { JsMsg } from '@nats-io/jetstream';",
        "import { pino } from 'pino';",
        'export const planted: unknown[] = [Redis, pino, null as unknown as JsMsg];',
        '',
      ].join('\n'),
    );
    const restricted = messages.filter((m) => m.startsWith('no-restricted-imports'));
    expect(restricted, messages.join('\n')).toHaveLength(3);
  });

  it('when a domain file imports only domain modules, then ESLint passes it', async () => {
    const messages = await lint(
      ["import { isUuid } from './ids.js';", 'export const planted = isUuid;', ''].join('\n'),
    );
    expect(messages).toEqual([]);
  });
});
