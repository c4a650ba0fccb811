// Preloaded (`node --import`) into a benchmarked child process: answers `{ type: 'memory' }`
// IPC requests with process.memoryUsage(), after a full GC when asked and --expose-gc is set.
// The channel is unref'd so it never keeps a stopping process alive.
if (process.send) {
  process.channel?.unref();
  process.on('message', (message) => {
    if (message?.type !== 'memory') return;
    if (message.gc && typeof globalThis.gc === 'function') globalThis.gc();
    process.send?.({ type: 'memory', id: message.id, ...process.memoryUsage() });
  });
}
