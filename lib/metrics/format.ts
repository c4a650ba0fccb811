/**
 * Metric points as log lines the clouds turn into metrics:
 * - `emf`: CloudWatch embedded metric format — a JSON line with an `_aws` directive naming the
 *   namespace, the dimension keys and each metric's unit; the values are top-level keys. Lambda
 *   ships stdout to CloudWatch Logs, which extracts the metrics (no API call, no SDK).
 *   Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * - `plain`: the same fields without `_aws`, for Alibaba SLS, which indexes JSON log fields
 *   (`* | SELECT sum(MessagesDropped) GROUP BY reason`).
 * Points with the same dimension values share one line; one line per dimension set otherwise,
 * since a document holds one value per dimension key.
 */

/** CloudWatch units this project uses. */
export type MetricUnit = 'Count' | 'Milliseconds';

/** One measurement. */
export interface MetricPoint {
  name: string;
  value: number;
  unit: MetricUnit;
  dimensions: Record<string, string>;
}

export type MetricFormat = 'emf' | 'plain';

export interface FormatOptions {
  /** CloudWatch namespace (EMF only). */
  namespace: string;
  /** Epoch ms. */
  timestamp: number;
}

/** Groups points by their dimension values, summing repeated points of one metric. */
function groups(points: readonly MetricPoint[]) {
  const byKey = new Map<
    string,
    {
      dimensions: Record<string, string>;
      metrics: Map<string, { unit: MetricUnit; value: number }>;
    }
  >();
  for (const point of points) {
    const keys = Object.keys(point.dimensions).sort();
    const key = JSON.stringify(keys.map((k) => [k, point.dimensions[k]]));
    let group = byKey.get(key);
    if (!group) {
      group = { dimensions: point.dimensions, metrics: new Map() };
      byKey.set(key, group);
    }
    const known = group.metrics.get(point.name);
    group.metrics.set(point.name, {
      unit: point.unit,
      value: (known?.value ?? 0) + point.value,
    });
  }
  return [...byKey.values()];
}

/** The log lines (JSON text, no newline) for `points` in the given format. */
export function formatMetrics(
  points: readonly MetricPoint[],
  format: MetricFormat,
  options: FormatOptions,
): string[] {
  return groups(points).map(({ dimensions, metrics }) => {
    const values = Object.fromEntries([...metrics].map(([name, m]) => [name, m.value]));
    if (format === 'plain') {
      return JSON.stringify({
        kind: 'metrics',
        timestamp: options.timestamp,
        ...dimensions,
        ...values,
      });
    }
    return JSON.stringify({
      _aws: {
        Timestamp: options.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: options.namespace,
            Dimensions: [Object.keys(dimensions).sort()],
            Metrics: [...metrics].map(([name, m]) => ({ Name: name, Unit: m.unit })),
          },
        ],
      },
      ...dimensions,
      ...values,
    });
  });
}
