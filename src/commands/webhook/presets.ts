import type { ContainerRule } from '../inject/container-rules.ts';

/**
 * Who is who in pods that nobody writes by hand, by the names and images their makers give
 * them. A preset names sidecars (added to pods by other webhooks or operators) or main containers
 * (in a pod that has one, every other container is a sidecar). Mesh proxies (Istio, Linkerd) need
 * no preset: inject knows them by name and image, waits for them and stops them as their mesh asks.
 */
export interface Preset {
  readonly description: string;
  readonly sidecars?: readonly ContainerRule[];
  readonly mains?: readonly ContainerRule[];
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  'cloud-sql-proxy': {
    description: "Google's Cloud SQL Auth Proxy (v2, and v1's gce-proxy), as its operator adds it",
    sidecars: [{ image: '**/cloud-sql-proxy*' }, { image: '**/gce-proxy*' }],
  },
  'alloydb-auth-proxy': {
    description: "Google's AlloyDB Auth Proxy",
    sidecars: [{ image: '**/alloydb-auth-proxy*' }],
  },
  'vault-agent': {
    description: "HashiCorp Vault's agent, as the Vault injector adds it (vault-agent)",
    sidecars: [{ name: 'vault-agent' }],
  },
  'azure-workload-identity': {
    description: "Azure workload identity's proxy (azwi-proxy), for pods that still use it",
    sidecars: [{ name: 'azwi-proxy' }, { image: '**/workload-identity/proxy*' }],
  },
  airflow: {
    description:
      "Apache Airflow's task pods (KubernetesExecutor, KubernetesPodOperator): the main container is base",
    mains: [{ name: 'base' }],
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);
