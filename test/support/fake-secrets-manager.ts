/**
 * A stand-in for the AWS Secrets Manager API on 127.0.0.1:0, for the real
 * @aws-sdk/client-secrets-manager pointed at it (`endpoint`). It speaks the service's wire
 * protocol as documented (AWS JSON 1.1: `POST /`, `X-Amz-Target: secretsmanager.<Operation>`,
 * `Content-Type: application/x-amz-json-1.1`) for the one operation the channel uses,
 * GetSecretValue: the answer carries ARN, Name, VersionId, SecretString, VersionStages and
 * CreatedDate (epoch seconds); an unknown secret is a 400 `ResourceNotFoundException`.
 * `putSecretValue` adds a version and moves AWSCURRENT to it, as the real PutSecretValue does.
 */
import { randomUUID } from 'node:crypto';
import { type JsonServer, type RecordedRequest, startJsonServer } from './fake-json-server.js';

interface Version {
  versionId: string;
  secretString: string;
  createdDate: number;
}

export interface FakeSecretsManager {
  endpoint: string;
  /** The ARN the fake gives a secret name (region us-east-1, account 123456789012). */
  arnOf(name: string): string;
  putSecretValue(name: string, secretString: string): string;
  /** GetSecretValue calls received, in order. */
  reads(): RecordedRequest[];
  /** Makes every call fail with HTTP 500 (`InternalServiceError`) until set back. */
  failing: boolean;
  close(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, Version[]>();
  const arnOf = (name: string) =>
    `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
  const nameOf = (id: string) =>
    [...secrets.keys()].find((name) => id === name || id === arnOf(name));
  const error = (status: number, type: string, message: string) => ({
    status,
    contentType: JSON_11,
    body: JSON.stringify({ __type: type, Message: message }),
  });
  const fake: FakeSecretsManager = {
    endpoint: '',
    arnOf,
    failing: false,
    putSecretValue(name, secretString) {
      const versionId = randomUUID();
      const versions = secrets.get(name) ?? [];
      versions.push({ versionId, secretString, createdDate: Date.now() / 1000 });
      secrets.set(name, versions);
      return versionId;
    },
    reads: () =>
      server.requests.filter((r) => r.headers['x-amz-target'] === 'secretsmanager.GetSecretValue'),
    close: () => server.close(),
  };
  const server: JsonServer = await startJsonServer((request) => {
    if (fake.failing) return error(500, 'InternalServiceError', 'stand-in failure');
    const target = String(request.headers['x-amz-target'] ?? '');
    if (request.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      return error(400, 'UnknownOperationException', `not supported here: ${target}`);
    }
    const { SecretId } = (request.body ?? {}) as { SecretId?: string };
    const name = SecretId ? nameOf(SecretId) : undefined;
    const current = name ? secrets.get(name)?.at(-1) : undefined;
    if (!name || !current) {
      return error(
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return {
      status: 200,
      contentType: JSON_11,
      body: JSON.stringify({
        ARN: arnOf(name),
        Name: name,
        VersionId: current.versionId,
        SecretString: current.secretString,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: current.createdDate,
      }),
    };
  });
  fake.endpoint = server.url;
  return fake;
}
