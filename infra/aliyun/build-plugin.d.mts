/** Path of the compiled provider that infra/aliyun/plugin.cjs loads. */
export declare const PLUGIN_BUNDLE: string;
/** Compiles infra/aliyun/plugin/*.ts to `outfile` (default PLUGIN_BUNDLE). */
export declare function buildAliyunPlugin(outfile?: string): Promise<string>;
