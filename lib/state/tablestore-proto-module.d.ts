// The `tablestore` SDK's generated protobuf module (CommonJS, no types of its own).
declare module 'tablestore/lib/protocol/tablestore_compiled_proto.js' {
  const compiled: {
    main: { proto: { Error: { decode(b: Uint8Array): { code: string; message?: string } } } };
  };
  export default compiled;
}
