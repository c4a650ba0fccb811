#!/usr/bin/env node
// Entry for `npx dingtalk-channel` from a checkout: tsx compiles the TypeScript sources on load,
// so nothing has to be built (and no install script has to run) before the command works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
