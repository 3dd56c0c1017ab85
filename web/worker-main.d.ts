// Type declarations for edgetag/worker-main: the Web Worker's entry (it exports nothing). Bundlers that do not
// follow `new Worker(new URL(…, import.meta.url))` build it as an entry of its own, passed as workerUrl.
export {};
