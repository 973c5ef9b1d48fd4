import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@flashsale/testbed';

/**
 * The k6 image reference: given, or the content-addressed tag of the image built here
 * (`hack/images/build.sh --ref k6`; `make k6` imports it into the host cluster first).
 */
export function k6Image(given: string | undefined): string {
  if (given) return given;
  return execFileSync(join(repoRoot, 'hack/images/build.sh'), ['--ref', 'k6'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
