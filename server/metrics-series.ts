// The per-request series as plain numbers: a finished request adds to a few fields found by two
// Map lookups, with no allocation. prom-client's own `inc`/`observe` hash the label values on
// every call, which cost 5–9 % of a small request's server CPU in `npm run bench`; these are
// read into the exposition only when Prometheus scrapes, and prom-client itself is loaded then.
import type { Counter, Metric } from 'prom-client'

interface Sample {
  metricName: string
  labels: Record<string, string | number>
  value: number
}

/** Durations by Prometheus' `le` rule: a value counts in the first bucket whose bound it does not exceed. */
export class DurationSeries {
  /** per bucket (not cumulative); the last one is +Inf */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(seconds: number): void {
    let i = 0
    while (i < this.bounds.length && seconds > this.bounds[i]) i++
    this.counts[i]++
    this.sum += seconds
    this.count++
  }
}

/**
 * A histogram family for prom-client's Registry, in the shape its own histograms report
 * (`_bucket` with `le`, `_sum`, `_count`), over DurationSeries that requests fill directly.
 */
export class HistogramFamily<L extends string> {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly entries = new Map<string, { labels: Record<L, string>; values: DurationSeries }>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  /** The series for these label values, made on first use (a handful per listener). */
  labelled(labels: Record<L, string>): DurationSeries {
    const key = JSON.stringify(labels)
    let entry = this.entries.get(key)
    if (!entry) {
      entry = { labels, values: new DurationSeries(this.bounds) }
      this.entries.set(key, entry)
    }
    return entry.values
  }

  /** what prom-client's Registry reads to print the family */
  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = []
    for (const { labels, values: series } of this.entries.values()) {
      let cumulative = 0
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bound }, value: cumulative })
      })
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: series.count })
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum })
      values.push({ metricName: `${this.name}_count`, labels, value: series.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** what prom-client's Registry.registerMetric takes: it reads name, help, type and get() */
  asMetric(): Metric<string> {
    return this as unknown as Metric<string>
  }
}

/** Totals kept as plain numbers and copied into a prom-client counter when it is scraped. */
export class CounterTotals<L extends string> {
  private readonly totals = new Map<string, { labels: Record<L, string>; value: { n: number } }>()

  /** the total for these label values, made on first use; hot paths keep it and add to `.n` */
  labelled(labels: Record<L, string>): { n: number } {
    const key = JSON.stringify(labels)
    let entry = this.totals.get(key)
    if (!entry) {
      entry = { labels, value: { n: 0 } }
      this.totals.set(key, entry)
    }
    return entry.value
  }

  /** for the counter's `collect`: the counter becomes exactly these totals */
  copyInto(counter: Counter<L>): void {
    counter.reset()
    for (const { labels, value } of this.totals.values()) if (value.n > 0) counter.inc(labels, value.n)
  }
}
