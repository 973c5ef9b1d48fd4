import { describe, expect, it } from 'vitest';
import { acts, defaultInstance, OPERATOR_LABEL, type Ownership } from './ownership.js';

const namespaced: Ownership = { instance: 'a.flashsale-operator', home: 'a', watchNamespace: 'a' };
const clusterWide: Ownership = { instance: 'c.flashsale-operator', home: 'c', watchNamespace: '' };
const label = (v: string) => ({ [OPERATOR_LABEL]: v });

describe('ownership', () => {
  it.each([
    ['namespaced, unlabelled, its namespace', namespaced, 'a', undefined, true],
    ['namespaced, unlabelled, another namespace', namespaced, 'b', undefined, false],
    ['namespaced, labelled for it', namespaced, 'a', label('a.flashsale-operator'), true],
    ['namespaced, labelled for another', namespaced, 'a', label('c.flashsale-operator'), false],
    ['namespaced, other labels only', namespaced, 'a', { app: 'x' }, true],
    ['namespaced, empty label = unlabelled', namespaced, 'a', label(''), true],
    ['cluster-wide, unlabelled, its home', clusterWide, 'c', undefined, true],
    ['cluster-wide, unlabelled, elsewhere', clusterWide, 'a', undefined, false],
    [
      'cluster-wide, labelled for it, elsewhere',
      clusterWide,
      'a',
      label('c.flashsale-operator'),
      true,
    ],
    [
      'cluster-wide, labelled for another, home',
      clusterWide,
      'c',
      label('a.flashsale-operator'),
      false,
    ],
  ] as const)('when %s, then acts = %s', (_name, o, ns, labels, want) => {
    expect(acts(o, ns, labels)).toBe(want);
  });

  it('when two operators share a cluster, then no object is acted on by both', () => {
    const ops: Ownership[] = [
      namespaced,
      { instance: 'b.flashsale-operator', home: 'b', watchNamespace: 'b' },
      clusterWide,
      { instance: 'd.flashsale-operator', home: 'd', watchNamespace: '' },
    ];
    for (const ns of ['a', 'b', 'c', 'd', 'e'])
      for (const labels of [undefined, ...ops.map((o) => label(o.instance)), label('x.y')]) {
        const n = ops.filter((o) => acts(o, ns, labels)).length;
        expect(n, `${ns} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
      }
  });

  it('when namespace and Lease name are long, then the default instance is a valid label value', () => {
    const v = defaultInstance('n'.repeat(60), 'flashsale-operator');
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(defaultInstance('flashsale', 'flashsale-operator')).toBe('flashsale.flashsale-operator');
  });
});
