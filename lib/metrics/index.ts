/** Operator metrics of the message function (the relay's Prometheus metrics: lib/relay/metrics.ts). */
export { formatMetrics, type MetricFormat, type MetricPoint, type MetricUnit } from './format.js';
export { MessageMetrics, type MessageMetricsOptions } from './message-metrics.js';
