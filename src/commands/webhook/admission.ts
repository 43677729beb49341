import { isSupervisorError } from '../../core/model/errors.ts';
import { containersOf, type Data, entryOf, isData } from '../inject/data.ts';
import type { ImageCommand } from '../inject/images.ts';
import { injectPatch } from '../inject/inject.ts';
import type { PatchOperation } from '../inject/json-patch.ts';
import { proxyMesh } from '../inject/meshes.ts';
import type { InjectOptions } from '../inject/options.ts';
import type { WebhookConfig } from './config.ts';

/**
 * What the webhook makes of one AdmissionReview: pure, on the request and the settings. It never
 * refuses a pod (`allowed: true` always): a pod it leaves alone or can't fix is admitted as it
 * came, with what it could not do in `warnings`, which kubectl prints.
 */
export type WebhookMode = 'native' | 'wrap' | 'auto';
export const WEBHOOK_MODES: readonly WebhookMode[] = ['native', 'wrap', 'auto'];

/** Pod annotations the webhook reads. */
export const INJECT_ANNOTATION = 'kubexit.io/inject';
export const MODE_ANNOTATION = 'kubexit.io/mode';

export interface AdmissionSettings {
  readonly config: WebhookConfig;
  readonly mode: WebhookMode;
  /** Whether the cluster runs native sidecars (Kubernetes 1.29+): what `auto` chooses by. */
  readonly nativeSidecarsAvailable: boolean;
  /** The kubexit image of the installer. */
  readonly image: string;
  /** The webhook's own namespace, never touched (nor kube-system). */
  readonly ownNamespace?: string;
  /**
   * The request came for pods that opt in one by one by annotation (/mutate/annotated): only a pod
   * with kubexit.io/inject: "true" is touched.
   */
  readonly optInByAnnotation?: boolean;
}

/** The fields of an AdmissionReview request the webhook reads, checked. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: string;
  readonly operation: string;
  readonly namespace: string;
  readonly object: unknown;
  readonly dryRun: boolean;
}

/** How one admission ended, for the response, the metrics and the log line. */
export interface Decision {
  readonly outcome: 'mutated' | 'unchanged' | 'skipped' | 'failed';
  readonly mode?: 'native' | 'wrap';
  readonly reason: string;
  readonly patch: readonly PatchOperation[];
  readonly warnings: readonly string[];
}

/** An AdmissionReview v1 body's request, or why the body is not one (a 400). */
export function requestOf(body: unknown): AdmissionRequest | { error: string } {
  if (!isData(body)) return { error: 'the body is not a JSON object' };
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview')
    return { error: 'the body is not an admission.k8s.io/v1 AdmissionReview' };
  const request = body.request;
  if (!isData(request)) return { error: 'the AdmissionReview has no request' };
  if (typeof request.uid !== 'string' || request.uid === '')
    return { error: 'the AdmissionReview request has no uid' };
  const kind = isData(request.kind) ? String(request.kind.kind ?? '') : '';
  return {
    uid: request.uid,
    kind,
    operation: String(request.operation ?? ''),
    namespace: String(request.namespace ?? ''),
    object: request.object,
    dryRun: request.dryRun === true,
  };
}

/** The options inject plans a pod with, for a mode. */
export function injectOptionsOf(
  settings: AdmissionSettings,
  mode: 'native' | 'wrap',
  images: ReadonlyMap<string, ImageCommand> = new Map(),
): InjectOptions {
  return {
    sidecars: [],
    sidecarRules: settings.config.sidecarRules,
    mainRules: settings.config.mainRules,
    entrypoints: new Map(),
    images,
    image: settings.image,
    nativeSidecars: mode === 'native',
    extendBirthDeps: true,
  };
}

/** Whether the webhook touches this pod, and in which mode; a reason when it doesn't. */
export function choose(
  request: AdmissionRequest,
  settings: AdmissionSettings,
): { mode: 'native' | 'wrap' } | { skip: string } {
  if (request.kind !== 'Pod') return { skip: `a ${request.kind || 'non-Pod'} object` };
  if (request.operation !== 'CREATE') return { skip: `a ${request.operation} operation` };
  const excluded = [
    'kube-system',
    settings.ownNamespace ?? '',
    ...settings.config.excludeNamespaces,
  ];
  if (excluded.includes(request.namespace))
    return { skip: `namespace ${request.namespace} is excluded` };
  const pod = request.object;
  if (!isData(pod) || !isData(pod.spec)) return { skip: 'no pod spec' };
  const annotations = isData(pod.metadata) ? pod.metadata.annotations : undefined;
  const asks = entryOf(annotations, INJECT_ANNOTATION);
  if (asks === 'false') return { skip: `the pod says ${INJECT_ANNOTATION}: "false"` };
  if (settings.optInByAnnotation === true && asks !== 'true' && asks !== 'enabled')
    return { skip: `the pod has no ${INJECT_ANNOTATION}: "true"` };
  const restartPolicy = String(pod.spec.restartPolicy ?? 'Always');
  if (!settings.config.restartPolicies.includes(restartPolicy))
    return {
      skip: `restartPolicy ${restartPolicy} (the webhook touches ${settings.config.restartPolicies.join(', ')})`,
    };
  const asked = entryOf(annotations, MODE_ANNOTATION);
  const mode = asked === 'native' || asked === 'wrap' ? asked : settings.mode;
  // A mesh proxy already added as a regular container (by a webhook called before this one) is
  // stopped only by a shutdown call, which only kubexit makes: auto wraps such a pod.
  const regularProxy = containersOf(pod.spec, 'containers').some((c) => proxyMesh(c) !== undefined);
  if (mode === 'native' || (mode === 'auto' && settings.nativeSidecarsAvailable && !regularProxy))
    return { mode: 'native' };
  return { mode: 'wrap' };
}

/**
 * The patch for a pod in a mode, with its images' commands: a pod inject can't wire (every
 * container a sidecar, an annotation naming no container…) is admitted unchanged, its reason a
 * warning.
 */
export function plan(
  pod: unknown,
  mode: 'native' | 'wrap',
  settings: AdmissionSettings,
  images: ReadonlyMap<string, ImageCommand>,
): Decision {
  const warnings: string[] = [];
  try {
    const patch = injectPatch(pod, injectOptionsOf(settings, mode, images), (kind, message) => {
      if (kind === 'warning') warnings.push(`kubexit: ${message}`);
    });
    return patch.length === 0
      ? { outcome: 'unchanged', mode, reason: 'nothing to change', patch, warnings }
      : { outcome: 'mutated', mode, reason: `wired (${mode})`, patch, warnings };
  } catch (error) {
    if (!isSupervisorError(error)) throw error;
    const message = error.message.replace(/^kubexit inject: /, '');
    return {
      outcome: 'failed',
      mode,
      reason: message,
      patch: [],
      warnings: [...warnings, `kubexit: pod admitted unchanged: ${message}`],
    };
  }
}

/** The AdmissionReview v1 answer: the request's uid, always allowed, the patch if any. */
export function responseOf(uid: string, decision: Pick<Decision, 'patch' | 'warnings'>): Data {
  const response: Data = { uid, allowed: true };
  if (decision.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(decision.patch)).toString('base64');
  }
  if (decision.warnings.length > 0) response.warnings = decision.warnings.map(warningText);
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** The API server drops warnings over 256 characters or with control characters. */
function warningText(warning: string): string {
  const flat = [...warning].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('');
  return flat.length <= 256 ? flat : `${flat.slice(0, 253)}...`;
}
