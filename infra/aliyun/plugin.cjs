// The `aliyun` provider as osls loads it (serverless.aliyun.yml `plugins:`): the bundle that
// `npm run build:aliyun` compiles from infra/aliyun/plugin/*.ts.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, 'dist', 'plugin.cjs');
if (!existsSync(bundle)) {
  throw new Error(
    'the aliyun provider is not built: run `npm run build:aliyun` (the package:aliyun / deploy:aliyun scripts do it for you)',
  );
}
module.exports = require(bundle);
