// Stands in for FC 3.0's built-in nodejs20 runtime around one function instance: loads the
// handler module from the unpacked code directory the way FC does (`require('/code/index.js')`,
// handler `index.handler`), then for every line on stdin `{ event, context }` calls
// `handler(Buffer, context)` and prints `{ result }` or `{ error }` as one line. The event is
// passed as a Buffer because that is what FC hands a Node handler.
const { join } = require('node:path');
const { createInterface } = require('node:readline');

const mod = require(join(process.argv[2], 'index.js'));
createInterface({ input: process.stdin }).on('line', async (line) => {
  const { event, context } = JSON.parse(line);
  try {
    const result = await mod.handler(Buffer.from(event, 'utf8'), context);
    process.stdout.write(`${JSON.stringify({ result })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: String(err?.message) })}\n`);
  }
});
