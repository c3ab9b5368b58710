// The body of each pthread of tfjs's threaded wasm build when it runs in Node.js (tfjs 4.22
// leaves threads off in Node, tensorflow/tfjs#3830): the stock worker script arrives as a
// Blob URL and loads the main glue from a Blob, which Node's worker_threads cannot open.
// Here the same stock worker script runs, and its 'load' message is pointed at the package's
// own copy of the threaded glue, the file the bundled factory was built from.
'use strict';
const { parentPort } = require('node:worker_threads');

const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');

const on = parentPort.on.bind(parentPort);
parentPort.on = (event, listener) => {
  if (event !== 'message') return on(event, listener);
  return on('message', (data) => {
    if (data && data.cmd === 'load') data.urlOrBlob = glue;
    listener(data);
  });
};

// The script is a template literal in which "\n" became real newlines (tfjs escapes them the
// same way before making its Blob); it expects CommonJS's require and __filename.
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);
