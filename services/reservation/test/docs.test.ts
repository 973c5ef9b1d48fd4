// The docs that the code keeps true: the README's configuration and error-code tables, the
// OpenAPI enum of codes, and `--help`, all against the tables in src/config.ts and src/errors.ts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configMarkdown, configTable } from '../src/config.js';
import { openApiDocument } from '../src/entry-points/http/openapi.js';
import { errorCodes, errorCodesMarkdown } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The README's text between `<!-- name:start -->` and `<!-- name:end -->`. */
function section(name: string): string {
  const m = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`README.md has no ${name} section`);
  return m[1]!;
}

describe('the docs', () => {
  it("when the config table changes, then the README's configuration table is regenerated (node dist/main.js --config-markdown)", () => {
    expect(section('config')).toBe(configMarkdown());
  });

  it('lists exactly the error codes of src/errors.ts in the README', () => {
    expect(section('error-codes')).toBe(errorCodesMarkdown());
    const listed = [...section('error-codes').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(errorCodes);
  });

  it('gives the OpenAPI document the same enum of codes', () => {
    expect(openApiDocument.components.schemas.Problem.properties.code.enum).toEqual(errorCodes);
  });

  it('prints every setting with --help and exits 0', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    for (const row of configTable) {
      const line = lines.find((l) => l.trimStart().startsWith(`${row.env} `));
      expect(line, `--help lists ${row.env}`).toBeDefined();
      expect(line).toContain(row.default || '(empty)');
      expect(line).toContain(row.doc);
      if (row.secret) expect(line).toContain('[secret:');
      else expect(line).not.toContain('[secret:');
    }
  });
});
