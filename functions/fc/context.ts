/**
 * What FC 3.0 hands a built-in Node runtime handler besides the event (FC "context" docs): the
 * request id, the function's timeout, and the function role's temporary credentials. FC also
 * injects those credentials as ALIBABA_CLOUD_* variables; the context's copy is the one FC
 * refreshes, so each invocation writes it back to the environment the clients read.
 */
export interface FcContext {
  requestId?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string; timeout?: number };
}

const DEFAULT_TIMEOUT_S = 60;

/** Milliseconds this invocation may run, from its start. */
export function invocationBudgetMs(context: FcContext): number {
  return (context.function?.timeout ?? DEFAULT_TIMEOUT_S) * 1000;
}

/** Publishes the invocation's role credentials as the standard Alibaba variables. */
export function exportCredentials(context: FcContext, env: NodeJS.ProcessEnv = process.env): void {
  const c = context.credentials;
  if (!c?.accessKeyId || !c.accessKeySecret) return;
  env.ALIBABA_CLOUD_ACCESS_KEY_ID = c.accessKeyId;
  env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = c.accessKeySecret;
  if (c.securityToken) env.ALIBABA_CLOUD_SECURITY_TOKEN = c.securityToken;
}
