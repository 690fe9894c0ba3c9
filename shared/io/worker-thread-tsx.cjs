// The entry of a worker thread whose module is TypeScript source (see worker-thread.ts): registers
// tsx's require hook in this thread, then loads the module, the last argument, as CommonJS (the
// hook compiles its `import`s to `require`s; worker modules use no top-level await for that).
const { fileURLToPath } = require('node:url');
const { register } = require('tsx/cjs/api');

register();
require(fileURLToPath(process.argv[process.argv.length - 1]));
