// Which ReservationAutoscalers this operator instance acts on. Several operators may share a cluster
// (one release per namespace, or a cluster-wide one next to namespaced ones): each object must have
// exactly one of them acting on it, or two leaders would scale the same Deployment. Pure.

/** The label that hands an object to one operator instance (its value: the instance name). */
export const OPERATOR_LABEL = 'flashsale.dev/operator';

export interface Ownership {
  /** This instance's name, e.g. `flashsale.flashsale-operator` (namespace.lease-name). */
  instance: string;
  /** The namespace it runs in (its Lease's namespace). */
  home: string;
  /** The namespace it watches; '' = every namespace. */
  watchNamespace: string;
}

/**
 * True when this instance acts on an object in `namespace` with `labels`:
 * - labelled `flashsale.dev/operator`: only the instance of that name;
 * - unlabelled: an operator that watches one namespace takes it; a cluster-wide operator takes it
 *   only in its own namespace (elsewhere a namespaced operator may already act on it, so a
 *   cluster-wide one needs the label as an explicit hand-over).
 */
export function acts(
  o: Ownership,
  namespace: string,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const owner = labels?.[OPERATOR_LABEL];
  if (owner !== undefined && owner !== '') return owner === o.instance;
  if (o.watchNamespace !== '') return namespace === o.watchNamespace;
  return namespace === o.home;
}

/** The default instance name: `<lease namespace>.<lease name>`, cut to a label value's 63 characters. */
export function defaultInstance(leaseNamespace: string, leaseName: string): string {
  return `${leaseNamespace}.${leaseName}`.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}
