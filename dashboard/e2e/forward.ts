// make dashboard: opens the dashboard on http://127.0.0.1:$LOCAL_PORT through kubectl
// port-forward, re-established whenever the pod behind the Service changes, until Ctrl-C.
import { z } from 'zod';
import { PortForward } from './port-forward.js';

const s = z
  .object({
    KUBECONFIG: z.string().min(1),
    KUBECTL: z.string().default('kubectl'),
    NAMESPACE: z.string().default('flashsale'),
    DASHBOARD_SERVICE: z.string().default('flashsale-dashboard'),
    DASHBOARD_PORT: z.coerce.number().int().default(80),
    LOCAL_PORT: z.coerce.number().int().min(1).max(65535).default(8081),
  })
  .parse(process.env);

const log = (line: string) => process.stderr.write(`[dashboard] ${line}\n`);
const pf = new PortForward({
  kubectl: s.KUBECTL,
  kubeconfig: s.KUBECONFIG,
  namespace: s.NAMESPACE,
  service: s.DASHBOARD_SERVICE,
  remotePort: s.DASHBOARD_PORT,
  localPort: s.LOCAL_PORT,
  log,
});
pf.start().then(
  (url) => log(`open ${url} (Ctrl-C to stop; the forward follows pod restarts)`),
  (err: unknown) => {
    log(String(err));
    process.exit(1);
  },
);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    pf.stop();
    process.exit(0);
  });
