/** Option parsing shared by the subcommands: strict, positionals allowed, usage errors exit 2. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ChannelError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args`; an unknown or malformed option is a usage error showing `help`. */
export function parseCommandArgs<T extends Options>(args: string[], options: T, help: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new ChannelError('usage', `${(err as Error).message}\n\n${help}`);
  }
}
