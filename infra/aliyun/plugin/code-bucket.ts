/**
 * The code bucket: ROS reads function packages from OSS, so the bucket must exist before the
 * stack (deploy-stack.md). `deploy` creates it when missing (private), then uploads each zip
 * under its content-hashed key unless that key is already there.
 */
import OSS from 'ali-oss';
import type { AliyunAccess } from './access.js';
import type { FunctionArtifact } from './artifacts.js';

/** Where one upload went: `uploaded` false when the key already held this content. */
export interface UploadResult {
  key: string;
  uploaded: boolean;
}

function client(access: AliyunAccess, bucket?: string): OSS {
  return new OSS({
    region: `oss-${access.region}`,
    accessKeyId: access.accessKeyId,
    accessKeySecret: access.accessKeySecret,
    ...(access.securityToken ? { stsToken: access.securityToken } : {}),
    ...(bucket ? { bucket } : {}),
    secure: true,
    // A stand-in on 127.0.0.1 is addressed path-style (the bucket cannot be a subdomain of an IP).
    ...(access.ossEndpoint
      ? {
          endpoint: access.ossEndpoint,
          secure: access.ossEndpoint.startsWith('https'),
          sldEnable: true,
        }
      : {}),
    timeout: 120_000,
  } as OSS.Options);
}

const codeOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null
    ? (Reflect.get(err, 'code') as string | undefined)
    : undefined;

// Bucket names are global across accounts: the default one may belong to someone else.
const takenBucket = (bucket: string) =>
  new Error(
    `the OSS bucket ${bucket} belongs to another account (or this AccessKey may not use it); set provider.codeBucket in serverless.aliyun.yml to a name of your own`,
  );

/** Creates `bucket` when it does not exist yet; true when it was created. */
export async function ensureCodeBucket(access: AliyunAccess, bucket: string): Promise<boolean> {
  const oss = client(access, bucket);
  try {
    await oss.getBucketInfo(bucket);
    return false;
  } catch (err) {
    if (codeOf(err) === 'AccessDenied') throw takenBucket(bucket);
    if (codeOf(err) !== 'NoSuchBucket') throw err;
  }
  try {
    await oss.putBucket(bucket, { acl: 'private' } as never);
  } catch (err) {
    if (codeOf(err) === 'BucketAlreadyExists') throw takenBucket(bucket);
    throw err;
  }
  return true;
}

/** Uploads every artifact whose key is not in the bucket yet. */
export async function uploadArtifacts(
  access: AliyunAccess,
  bucket: string,
  artifacts: FunctionArtifact[],
): Promise<UploadResult[]> {
  const oss = client(access, bucket);
  const results: UploadResult[] = [];
  for (const artifact of artifacts) {
    try {
      await oss.head(artifact.objectKey);
      results.push({ key: artifact.objectKey, uploaded: false });
      continue;
    } catch (err) {
      if (codeOf(err) !== 'NoSuchKey' && (err as { status?: number }).status !== 404) throw err;
    }
    await oss.put(artifact.objectKey, artifact.file, {
      headers: { 'x-oss-meta-sha256': artifact.sha256 },
    } as never);
    results.push({ key: artifact.objectKey, uploaded: true });
  }
  return results;
}
