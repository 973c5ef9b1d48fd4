// hack/verify-docs.mjs (make lint): the repository's docs stay inside the repository.
//  - no tracked file names a document outside it (the team's shared folder beside the checkout, or
//    its design page: the patterns below);
//  - every relative link in a Markdown file points at a file or folder that exists in the repository.
// Prints each problem as file:line and exits 1 when there is any.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && existsSync(join(root, f)));

const problems = [];
const outside = new RegExp(['\\.\\./', 'shared\\b|\\bDESIGN', '\\.md\\b'].join(''));
const self = 'hack/verify-docs.mjs';
for (const file of files) {
  if (file === self || /\.(png|jpg|gz|tgz|ico)$/.test(file)) continue;
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (outside.test(line))
      problems.push(`${file}:${i + 1}: names a document outside the repository`);
  });
  if (!file.endsWith('.md')) continue;
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = resolve(root, dirname(file), decodeURI(target.split('#')[0]));
      const rel = relative(root, path);
      if (rel.startsWith('..'))
        problems.push(`${file}:${i + 1}: link leaves the repository: ${target}`);
      else if (!existsSync(path)) problems.push(`${file}:${i + 1}: broken link: ${target}`);
    }
  });
}
for (const p of problems) console.error(p);
if (problems.length) {
  console.error(`verify-docs: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`verify-docs: ${files.length} files, every link stays in the repository`);
