// `make autoscale-sim`: replays every trace through this operator, the HPA model and the KEDA
// model; writes reports/autoscale-sim.json and prints the table that operator/README.md carries.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_PARAMS,
  hpaScaler,
  kedaScaler,
  operatorScaler,
  simulate,
  type RunResult,
} from './model.js';
import { TRACES } from './traces.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = join(repo, 'reports/autoscale-sim.json');

const results: RunResult[] = [];
for (const trace of TRACES) {
  process.stderr.write(`autoscale-sim: ${trace.name} (${trace.seconds} s simulated)\n`);
  for (const make of [() => operatorScaler(trace), () => hpaScaler(), () => kedaScaler()])
    results.push(simulate(trace, make));
}

mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      params: DEFAULT_PARAMS,
      models: {
        operator:
          'desiredReplicas() every 2 s, woken by a backlog jump; irate over the last two scrapes; backlog read directly; pre-scale 60 s before a listed sale',
        HPA: '15 s sync, 10% tolerance, scale-up max(100%, 4 pods)/15 s, scale-down window 300 s; metric rate()[60s] of the same scrapes; no answer = no change',
        KEDA: 'Prometheus scaler polled every 30 s (empty answer = 0), value fed to the same HPA',
      },
      traces: TRACES.map((t) => ({ name: t.name, description: t.description, rushAt: t.rushAt })),
      results,
    },
    null,
    2,
  ) + '\n',
);

const fmt = (v: number | null) => (v === null ? '–' : String(v));
const rows = results.map((r) =>
  [
    r.trace,
    r.scaler,
    fmt(r.decisionSeconds),
    fmt(r.rushToCapacitySeconds),
    r.replicaSeconds,
    r.secondsUnderCapacity,
    fmt(r.scaleDownsDuringOutage),
    r.maxReplicas,
    r.peakBacklog,
  ].join(' | '),
);
const header =
  'trace | scaler | decision s | rush → capacity s | replica-seconds | s under capacity | scale-downs in outage | max replicas | peak backlog';
process.stdout.write(
  `| ${header} |\n|${header
    .split('|')
    .map(() => '---')
    .join('|')}|\n${rows.map((r) => `| ${r} |`).join('\n')}\n`,
);
process.stderr.write(`autoscale-sim: wrote ${out}\n`);
