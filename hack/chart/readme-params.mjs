// The parameters table of charts/flashsale/README.md, generated from the `# --` comments of
// values.yaml. `node hack/chart/readme-params.mjs` rewrites the table; `--check` fails (exit 1)
// when the README is stale or a value has no comment, so the table cannot drift from the values.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const chart = fileURLToPath(new URL('../../charts/flashsale/', import.meta.url));
const START = '<!-- parameters:start -->';
const END = '<!-- parameters:end -->';

/**
 * Parses the values file line by line (its style is two-space indents, inline defaults, `# --`
 * comments right above each key) into rows; returns the rows and the keys that lack a comment.
 */
export function parseValues(text) {
  const rows = [];
  const undocumented = [];
  const path = [];
  let doc = [];
  for (const line of text.split('\n')) {
    const comment = /^\s*# -- (.*)$/.exec(line);
    if (comment) {
      doc.push(comment[1]);
      continue;
    }
    const key = /^(\s*)([A-Za-z0-9_]+):(.*)$/.exec(line);
    if (!key) {
      if (!line.trim().startsWith('#')) doc = [];
      continue;
    }
    const depth = key[1].length / 2;
    path.length = depth;
    path.push(key[2]);
    const value = key[3].trim();
    const name = path.join('.');
    if (doc.length) rows.push({ name, value: value === '' ? '{...}' : value, doc: doc.join(' ') });
    else if (value !== '') undocumented.push(name);
    doc = [];
  }
  return { rows, undocumented };
}

/** The Markdown table of the rows. */
export function renderTable(rows) {
  const cell = (s) => s.replaceAll('|', '\\|');
  return [
    '| key | default | description |',
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.name}\` | \`${cell(r.value)}\` | ${cell(r.doc)} |`),
  ].join('\n');
}

function main() {
  const check = process.argv.includes('--check');
  const { rows, undocumented } = parseValues(readFileSync(`${chart}values.yaml`, 'utf8'));
  if (undocumented.length) {
    console.error(`values without a "# --" comment: ${undocumented.join(', ')}`);
    process.exit(1);
  }
  const readmePath = `${chart}README.md`;
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) {
    console.error(`${readmePath}: markers ${START} ... ${END} not found`);
    process.exit(1);
  }
  const next = `${readme.slice(0, a + START.length)}\n${renderTable(rows)}\n${readme.slice(b)}`;
  if (check) {
    if (next !== readme) {
      console.error(
        'charts/flashsale/README.md: the parameters table is stale; run node hack/chart/readme-params.mjs',
      );
      process.exit(1);
    }
    console.log(`readme-params: ${rows.length} values documented, README table up to date`);
    return;
  }
  writeFileSync(readmePath, next);
  console.log(`readme-params: wrote ${rows.length} rows`);
}

main();
