// @alicloud/fc2 ships no type declarations; this is the part of its API we use (fc2 2.6 lib/client.js).
declare module '@alicloud/fc2' {
  interface FcClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    /** Required when the AccessKey id is an STS one (`STS.…`). */
    securityToken?: string;
    region: string;
    /** https instead of the SDK's default plain http; ignored when `endpoint` is set. */
    secure?: boolean;
    /** Full URL (`https://host[:port]`); replaces `<accountId>.<region>.fc.aliyuncs.com`. */
    endpoint?: string;
    /** Per request, connect and read (ms); default 60 000. */
    timeout?: number;
    headers?: Record<string, string>;
  }

  interface FcResponse {
    headers: Record<string, string | string[] | undefined>;
    data: unknown;
  }

  class FCClient {
    constructor(accountId: string, config: FcClientConfig);
    /** Throws on a non-2xx answer: `Error` named `FC<ErrorCode>Error`, message "… failed with <status>. …". */
    invokeFunction(
      serviceName: string,
      functionName: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
    ): Promise<FcResponse>;
  }

  export default FCClient;
}
