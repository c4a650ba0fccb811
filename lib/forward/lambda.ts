/**
 * The AWS Lambda forwarder: `Invoke` with `InvocationType: "Event"`. Lambda answers 202 once the
 * event sits in its internal queue, which is durable (deploy-stack.md); there is no enqueue
 * dedup, so redeliveries reach the handler and its dedup drops them. Errors are classified by
 * name: throttling and service faults are retryable, a missing function or denied access not.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { registerSecret } from '../log.js';
import {
  ACCEPTED,
  DEFAULT_HANDOFF_TIMEOUT_MS,
  describeFailure,
  rejected,
  runHandoff,
} from './outcome.js';
import type { Forwarder } from './port.js';

export interface LambdaForwarderOptions {
  functionName: string;
  region: string;
  /** Endpoint override (tests, a local emulator); AWS_ENDPOINT_URL_LAMBDA works too. */
  endpoint?: string;
  /** Static credentials (tests); the default provider chain otherwise. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per hand-off (the relay retries too). */
  maxAttempts?: number;
  timeoutMs?: number;
}

/** Errors that repeat identically on retry: configuration or permissions, not load. */
const FINAL_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidParameterValueException',
  'InvalidRequestContentException',
  'RequestTooLargeException',
  'UnsupportedMediaTypeException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
]);

/** Creates the Lambda async-invoke forwarder. */
export function createLambdaForwarder(options: LambdaForwarderOptions): Forwarder {
  registerSecret(options.credentials?.secretAccessKey);
  registerSecret(options.credentials?.sessionToken);
  const client = new LambdaClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  const where = `lambda: ${options.functionName}`;
  return {
    kind: 'lambda',
    forward: (event, signal) =>
      runHandoff({
        label: where,
        timeoutMs: options.timeoutMs ?? DEFAULT_HANDOFF_TIMEOUT_MS,
        signal,
        async attempt(abortSignal) {
          const command = new InvokeCommand({
            FunctionName: options.functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify(event)),
          });
          const output = await client.send(command, { abortSignal });
          if (output.StatusCode === 202) return ACCEPTED;
          return rejected(`${where}: unexpected status ${output.StatusCode}`, true);
        },
        classify: (err) =>
          rejected(`${where}: ${describeFailure(err)}`, !FINAL_ERRORS.has(errorName(err))),
      }),
    async close() {
      client.destroy();
    },
  };
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}
