/**
 * The webhook's Prometheus metrics, in the text exposition format (written by hand: a handful of
 * counters and one histogram need no client library).
 */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Readonly<Record<string, string>>;

export class WebhookMetrics {
  readonly #counters = new Map<string, { help: string; values: Map<string, number> }>();
  readonly #latency = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };

  constructor() {
    this.#declare(
      'kubexit_webhook_admissions_total',
      'Admission reviews answered, by outcome and mode.',
    );
    this.#declare('kubexit_webhook_bad_requests_total', 'Requests answered 4xx or 5xx, by reason.');
    this.#declare('kubexit_webhook_registry_lookups_total', 'Image lookups, by result.');
    this.#declare(
      'kubexit_webhook_registry_cache_hits_total',
      'Image lookups answered from memory.',
    );
    this.#declare(
      'kubexit_webhook_reloads_total',
      'Certificate and configuration reloads, by what and result.',
    );
  }

  admission(outcome: string, mode: string, seconds: number): void {
    this.#add('kubexit_webhook_admissions_total', { outcome, mode });
    for (const [index, bound] of LATENCY_BUCKETS.entries())
      if (seconds <= bound) this.#latency.counts[index] = (this.#latency.counts[index] ?? 0) + 1;
    this.#latency.sum += seconds;
    this.#latency.count++;
  }

  badRequest(reason: string): void {
    this.#add('kubexit_webhook_bad_requests_total', { reason });
  }

  lookup(result: string): void {
    this.#add('kubexit_webhook_registry_lookups_total', { result });
  }

  cacheHit(): void {
    this.#add('kubexit_webhook_registry_cache_hits_total', {});
  }

  reload(what: 'certificate' | 'config', result: 'ok' | 'error'): void {
    this.#add('kubexit_webhook_reloads_total', { what, result });
  }

  /** Everything, as a scrape reads it. */
  text(): string {
    const lines: string[] = [];
    for (const [name, counter] of this.#counters) {
      lines.push(`# HELP ${name} ${counter.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of counter.values) lines.push(`${name}${labels} ${value}`);
    }
    const name = 'kubexit_webhook_admission_duration_seconds';
    lines.push(`# HELP ${name} Time to answer an admission review.`, `# TYPE ${name} histogram`);
    for (const [index, bound] of LATENCY_BUCKETS.entries())
      lines.push(`${name}_bucket{le="${bound}"} ${this.#latency.counts[index] ?? 0}`);
    lines.push(`${name}_bucket{le="+Inf"} ${this.#latency.count}`);
    lines.push(`${name}_sum ${this.#latency.sum}`, `${name}_count ${this.#latency.count}`);
    return `${lines.join('\n')}\n`;
  }

  #declare(name: string, help: string): void {
    this.#counters.set(name, { help, values: new Map() });
  }

  #add(name: string, labels: Labels): void {
    const counter = this.#counters.get(name);
    if (counter === undefined) return;
    const key = labelText(labels);
    counter.values.set(key, (counter.values.get(key) ?? 0) + 1);
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const quoted = (value: string) =>
    value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([key, value]) => `${key}="${quoted(value)}"`).join(',')}}`;
}
