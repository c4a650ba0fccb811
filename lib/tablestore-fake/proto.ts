/**
 * The protobuf messages of Tablestore's wire protocol, taken from the definitions the official
 * `tablestore` SDK ships (lib/protocol/tablestore_compiled_proto.js, generated from its
 * tablestore.proto and tablestore_filter.proto with the protobufjs version the SDK depends on).
 * Decoding the SDK's requests with its own definitions means the fake cannot drift from the
 * wire format the SDK speaks.
 */
import { createRequire } from 'node:module';

/** A protobufjs static message class (only what the fake uses). */
export interface MessageType<T = Record<string, unknown>> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
  create(properties: T): T;
}

interface CompiledRoot {
  main: { proto: Record<string, MessageType & Record<string, unknown>> };
  filter: { proto: Record<string, MessageType & Record<string, unknown>> };
}

const require = createRequire(import.meta.url);
const root = require('tablestore/lib/protocol/tablestore_compiled_proto.js') as CompiledRoot;

/** Messages of tablestore.proto (package main.proto). */
export const ots = root.main.proto;
/** Messages of tablestore_filter.proto (package filter.proto). */
export const otsFilter = root.filter.proto;

/** Looks up a message class, failing loudly if the SDK's definitions changed shape. */
export function message<T = Record<string, unknown>>(
  name: string,
  pkg: 'main' | 'filter' = 'main',
): MessageType<T> {
  const type = (pkg === 'main' ? ots : otsFilter)[name];
  if (!type || typeof type.decode !== 'function') {
    throw new Error(`tablestore SDK protobuf definitions have no message ${name}`);
  }
  return type as unknown as MessageType<T>;
}

/** Encodes a response message to bytes. */
export function encodeMessage(name: string, value: Record<string, unknown>): Buffer {
  const type = message(name);
  return Buffer.from(type.encode(type.create(value)).finish());
}

/** protobufjs decodes int64 fields as Long objects (or numbers); this reads either. */
export function int64ToNumber(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  const long = value as { toNumber?: () => number };
  return typeof long.toNumber === 'function' ? long.toNumber() : Number(value);
}
