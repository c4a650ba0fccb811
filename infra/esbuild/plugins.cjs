/**
 * esbuild plugins shared by the Lambda bundles (serverless-esbuild `custom.esbuild.plugins`,
 * which `require`s this file, hence CommonJS) and the relay bundle (infra/scripts/build-relay.mjs).
 *
 * The embedded store (dynalite on LevelDB, with a native addon) only serves `npm start`
 * (architecture.md "Runtime modes"). lib/state/index.ts imports it lazily, but a bundler still
 * follows that import, and an ESM bundle would hoist `import "dynalite"` to the top of the file.
 * So the lazy import is replaced by a stub that fails with a clear configuration error, and any
 * other path that reaches dynalite or LevelDB fails the build instead of shipping them.
 *
 * The Tablestore store (the `tablestore` SDK with ~2 MB of generated protobuf code) only serves
 * Alibaba Cloud: the default list (AWS Lambda bundles and the relay image) stubs it the same way.
 * Alibaba bundles use `plugins.alibaba`, which keeps it.
 */
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const STATE_INDEX = path.join(ROOT, 'lib', 'state', 'index.ts');
const ERRORS_MODULE = path.join(ROOT, 'lib', 'errors.ts');
const STUB_NAMESPACE = 'dingtalk-channel-stub';
const FORBIDDEN = /^(dynalite|level|classic-level|leveldown)(\/.*)?$/;

const STUB_SOURCE = `
import { ChannelError } from ${JSON.stringify(ERRORS_MODULE)};
export async function openEmbeddedStore(): Promise<never> {
  throw new ChannelError(
    'config',
    'STATE_BACKEND=embedded is not available in this bundle (the embedded dynalite store only runs from a checkout with npm start); set STATE_BACKEND=dynamodb and STATE_TABLE',
  );
}
`;

/** Replaces the embedded store with a stub and refuses dynalite/LevelDB imports. */
const excludeEmbeddedStore = {
  name: 'exclude-embedded-store',
  setup(build) {
    build.onResolve({ filter: /^\.\/embedded\.js$/ }, (args) =>
      path.resolve(args.importer) === STATE_INDEX
        ? { path: 'embedded-store', namespace: STUB_NAMESPACE }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: STUB_NAMESPACE }, () => ({
      contents: STUB_SOURCE,
      loader: 'ts',
      resolveDir: ROOT,
    }));
    build.onResolve({ filter: FORBIDDEN }, (args) => ({
      errors: [
        {
          text: `"${args.path}" (imported by ${path.relative(ROOT, args.importer)}) must not be bundled: the embedded store is for npm start only`,
        },
      ],
    }));
  },
};

const TABLESTORE_STUB_SOURCE = `
import { ChannelError } from ${JSON.stringify(ERRORS_MODULE)};
export class TablestoreStateStore {
  constructor() {
    throw new ChannelError(
      'config',
      'STATE_BACKEND=tablestore is not available in this bundle (built for AWS); build with the Alibaba plugins (infra/esbuild/plugins.cjs .alibaba) or set STATE_BACKEND=dynamodb',
    );
  }
}
`;

/** Replaces the Tablestore store with a stub (bundles that never run on Alibaba Cloud). */
const excludeTablestoreStore = {
  name: 'exclude-tablestore-store',
  setup(build) {
    build.onResolve({ filter: /^\.\/tablestore\.js$/ }, (args) =>
      path.resolve(args.importer) === STATE_INDEX
        ? { path: 'tablestore-store', namespace: 'dingtalk-channel-tablestore-stub' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'dingtalk-channel-tablestore-stub' }, () => ({
      contents: TABLESTORE_STUB_SOURCE,
      loader: 'ts',
      resolveDir: ROOT,
    }));
  },
};

module.exports = [excludeEmbeddedStore, excludeTablestoreStore];
module.exports.excludeEmbeddedStore = excludeEmbeddedStore;
module.exports.excludeTablestoreStore = excludeTablestoreStore;
/** For Alibaba Cloud bundles: the Tablestore store stays in. */
module.exports.alibaba = [excludeEmbeddedStore];
