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
 *
 * The file readers (`unpdf`, `mammoth`: about 2 MB of code) serve only `agent.mediaFiles: "text"`,
 * which is off by default. Bundled as code they cost every cold start their parse time (measured
 * about 50 ms on `require()`), used or not. So each is bundled on its own into a string that is
 * compiled on its first use (deferFileReaders below): a string literal costs a scan, not a parse.
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

const FILE_TEXT = path.join(ROOT, 'lib', 'pipeline', 'file-text.ts');
const DEFERRED = /^(unpdf|mammoth)$/;

/**
 * Replaces `import('unpdf')` / `import('mammoth')` in lib/pipeline/file-text.ts with a module
 * that holds the library's own CommonJS bundle as text and compiles it when first imported
 * (esbuild wraps the module, so that happens at the first `import()`, not at load).
 */
const deferFileReaders = {
  name: 'defer-file-readers',
  setup(build) {
    build.onResolve({ filter: DEFERRED }, (args) =>
      path.resolve(args.importer) === FILE_TEXT
        ? { path: args.path, namespace: 'dingtalk-channel-deferred' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'dingtalk-channel-deferred' }, async (args) => {
      const inner = await build.esbuild.build({
        absWorkingDir: ROOT,
        stdin: {
          contents: `module.exports = require(${JSON.stringify(args.path)});`,
          resolveDir: ROOT,
        },
        bundle: true,
        write: false,
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        minify: true,
        legalComments: 'none',
        logLevel: 'error',
      });
      const code = inner.outputFiles[0].text;
      return {
        loader: 'js',
        resolveDir: ROOT,
        contents: [
          `const code = ${JSON.stringify(code)};`,
          'const loaded = { exports: {} };',
          "new Function('module', 'exports', 'require', code)(loaded, loaded.exports, require);",
          'module.exports = loaded.exports;',
        ].join('\n'),
      };
    });
  },
};

module.exports = [excludeEmbeddedStore, excludeTablestoreStore, deferFileReaders];
module.exports.excludeEmbeddedStore = excludeEmbeddedStore;
module.exports.excludeTablestoreStore = excludeTablestoreStore;
/** For Alibaba Cloud bundles: the Tablestore store stays in. */
module.exports.alibaba = [excludeEmbeddedStore, deferFileReaders];
module.exports.deferFileReaders = deferFileReaders;
