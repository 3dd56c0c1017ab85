// Type declarations for edgetag/models/<name>.gguf imported as a module: Cloudflare Workers' Data modules
// (wrangler's Data rule, workerd's data modules) give the file's bytes as an ArrayBuffer, which load() takes.
// (Vite's `edgetag/models/<name>.gguf?url` is typed by vite/client as the file's URL.)
declare const bytes: ArrayBuffer;
export default bytes;
