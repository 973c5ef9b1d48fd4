import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { k6JobSpec, parseK6Summary } from './loadtest.js';

const settings = {
  namespace: 'flashsale',
  image: 'flashsale/k6:dev',
  configMap: 'flashsale-k6-scripts',
  scriptKey: 'rush.js',
  targetUrl: 'http://reservation:80',
};

describe('k6JobSpec', () => {
  const job = k6JobSpec({ eventId: 'e1', vus: 300, durationSeconds: 60 }, settings);
  const pod = job.spec!.template.spec!;
  const c = pod.containers[0]!;

  it('when launched, then the Job runs the ConfigMap script with the bounded size, once', () => {
    expect(c.image).toBe('flashsale/k6:dev');
    expect(c.args).toEqual([
      'run',
      '--no-usage-report',
      '--vus',
      '300',
      '--duration',
      '60s',
      '/scripts/rush.js',
    ]);
    expect(pod.volumes).toEqual([{ name: 'scripts', configMap: { name: 'flashsale-k6-scripts' } }]);
    expect(c.volumeMounts).toEqual([{ name: 'scripts', mountPath: '/scripts', readOnly: true }]);
    expect(job.spec!.backoffLimit).toBe(0);
    expect(pod.restartPolicy).toBe('Never');
    expect(job.spec!.activeDeadlineSeconds).toBe(180);
  });

  it('when launched, then the script gets target, sale and size, and the pod is locked down', () => {
    expect(c.env).toEqual([
      { name: 'BASE_URL', value: 'http://reservation:80' },
      { name: 'EVENT_ID', value: 'e1' },
      { name: 'VUS', value: '300' },
      { name: 'DURATION', value: '60s' },
    ]);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(job.metadata?.labels?.['app.kubernetes.io/component']).toBe('loadtest');
    expect(job.metadata?.annotations?.['flashsale.dev/event-id']).toBe('e1');
  });
});

describe('parseK6Summary', () => {
  it('when given the summary k6 1.8 prints, then it reads requests, rate, p95, failures and checks', () => {
    const text = readFileSync(
      new URL('../test/fixtures/k6-1.8-summary.txt', import.meta.url),
      'utf8',
    );
    expect(parseK6Summary(text)).toEqual({
      requests: 7597,
      requestsPerSecond: 3790.350458,
      p95Ms: 1.03,
      failedRate: 0,
      checksRate: 1,
    });
  });

  it('when the p95 is in microseconds or seconds, then it is converted to ms', () => {
    expect(parseK6Summary('http_req_duration...: avg=1 p(95)=850µs')?.p95Ms).toBeCloseTo(0.85);
    expect(parseK6Summary('http_req_duration...: avg=1 p(95)=1.5s')?.p95Ms).toBe(1500);
  });

  it('when the log has no summary, then there is none', () => {
    expect(parseK6Summary('level=error msg="script not found"')).toBeNull();
  });
});
