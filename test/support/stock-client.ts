/**
 * The stock `dingtalk-stream@2.1.5` DWClient with only its gateway URL swapped (dingtalk-protocol
 * §1.4), for tests that show what the SDK itself does against the simulator.
 */
import { DWClient } from 'dingtalk-stream';

export type StockClientOptions = ConstructorParameters<typeof DWClient>[0] &
  Record<string, unknown>;

export class StockDWClient extends DWClient {
  constructor(
    options: StockClientOptions,
    private readonly gatewayUrl: string,
  ) {
    super(options);
  }

  override async getEndpoint(): Promise<this> {
    const res = await fetch(this.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
    });
    if (!res.ok) throw new Error(`gateway ${res.status}: ${await res.text()}`);
    const { endpoint, ticket } = (await res.json()) as { endpoint?: string; ticket?: string };
    if (!endpoint || !ticket) throw new Error('endpoint or ticket is null');
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${ticket}`;
    return this;
  }
}
