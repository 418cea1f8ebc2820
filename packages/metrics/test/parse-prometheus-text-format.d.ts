/** Types of parse-prometheus-text-format (it ships none): what its default export returns. */
declare module 'parse-prometheus-text-format' {
  /** One sample of a family; histograms and summaries are folded into `buckets`, `count` and `sum`. */
  export interface ParsedSample {
    readonly value?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly buckets?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
    readonly timestamp_ms?: string;
  }
  /** One metric family: its name, help, type (upper case) and samples. */
  export interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly ParsedSample[];
  }
  /** Parses the Prometheus text format; throws `InvalidLineError` on a line that is not of it. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
