/**
 * esbuild plugins shared by the Lambda bundles (serverless-esbuild `custom.esbuild.plugins`,
 * which `require`s this file, hence CommonJS) and the relay bundle (infra/scripts/build-relay.mjs).
 *
 * The embedded store (dynalite on LevelDB, with a native addon) only serves `npm start`
 * (architecture.md "Runtime modes"). lib/state/index.ts imports it lazily, but a bundler still
 * follows that import, and an ESM bundle would hoist `import "dynalite"` to the top of the file.
 * So the lazy import is replaced by a stub that fails with a clear configuration error, and any
 * other path that reaches dynalite or LevelDB fails the build instead of shipping them.
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

module.exports = [excludeEmbeddedStore];
module.exports.excludeEmbeddedStore = excludeEmbeddedStore;
