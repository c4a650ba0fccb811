/**
 * Physical names derived from the stack input, shared by the template, the role policies
 * (which must name the exact resources they grant) and `info`.
 */
import type { StackInput } from '../schema.js';

/** Resource names of one stack. */
export interface StackNames {
  messageFunction: string;
  sendFunction: string;
  relayFunction: string;
  failureQueue: string;
  /** SLS project names are global: suffixed with the account id in the template. */
  logProjectPrefix: string;
  logstore: string;
  role: (fn: 'message' | 'send' | 'relay') => string;
}

const lower = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]/g, '-');

/** Names for `input`; FC function names allow letters, digits, `_` and `-` (≤ 64). */
export function stackNames(input: StackInput): StackNames {
  const base = input.stackName;
  return {
    messageFunction: `${base}-message`,
    sendFunction: `${base}-send`,
    relayFunction: `${base}-relay`,
    failureQueue: `${base}-message-failures`,
    logProjectPrefix: lower(base).slice(0, 40),
    logstore: 'functions',
    role: (fn) => `${base}-${fn}`.slice(0, 64),
  };
}
