#!/usr/bin/env node
// Entry for `npx dingtalk-channel` from a checkout: tsx compiles the TypeScript sources on load,
// so nothing has to be built (and no install script has to run) before the command works.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start under Node 20 that releases after January 2027 need Node 22;
// the project already targets Node 22 on Lambda, so the notice is noise in a CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
