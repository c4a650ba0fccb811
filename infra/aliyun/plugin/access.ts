/**
 * Who and where the deploy talks to: the standard Alibaba credential variables, the region, and
 * the ROS/OSS endpoints. `ALIYUN_ROS_ENDPOINT` / `ALIYUN_OSS_ENDPOINT` exist only so the tests
 * can point the official SDKs at local stand-ins (README: "test-only overrides").
 */
export interface AliyunAccess {
  region: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  ros: { protocol: 'http' | 'https'; host: string };
  /** An OSS endpoint override as a URL; absent = the region's public endpoint. */
  ossEndpoint?: string;
}

/** A missing credential or a malformed override; final (retrying cannot help). */
export class AccessError extends Error {
  override name = 'AccessError';
}

function endpoint(raw: string, name: string): { protocol: 'http' | 'https'; host: string } {
  const match = /^(https?):\/\/([^/\s]+)\/?$/i.exec(raw);
  if (!match?.[1] || !match[2])
    throw new AccessError(`${name} must be http(s)://host[:port], got ${raw}`);
  return { protocol: match[1].toLowerCase() === 'http' ? 'http' : 'https', host: match[2] };
}

/** Reads credentials and endpoints from `env`; throws naming every missing variable. */
export function resolveAccess(env: NodeJS.ProcessEnv, region: string): AliyunAccess {
  const missing = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'].filter(
    (name) => !env[name],
  );
  if (missing.length > 0) {
    throw new AccessError(
      `${missing.join(' and ')} must be set (a RAM user's AccessKey with the permissions in README "Deploy to Alibaba Cloud"; ALIBABA_CLOUD_SECURITY_TOKEN too for STS credentials)`,
    );
  }
  const ros = env.ALIYUN_ROS_ENDPOINT
    ? endpoint(env.ALIYUN_ROS_ENDPOINT, 'ALIYUN_ROS_ENDPOINT')
    : { protocol: 'https' as const, host: 'ros.aliyuncs.com' };
  if (env.ALIYUN_OSS_ENDPOINT) endpoint(env.ALIYUN_OSS_ENDPOINT, 'ALIYUN_OSS_ENDPOINT');
  return {
    region,
    accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID as string,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET as string,
    ...(env.ALIBABA_CLOUD_SECURITY_TOKEN
      ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN }
      : {}),
    ros,
    ...(env.ALIYUN_OSS_ENDPOINT ? { ossEndpoint: env.ALIYUN_OSS_ENDPOINT } : {}),
  };
}
