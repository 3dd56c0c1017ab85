// runtime.js — what the library asks of a runtime beyond the web platform: Node's built-in modules (in Node,
// Deno, and Workers with nodejs_compat) and what Deno's permission errors ask for. Nothing here runs at import.

/**
 * A Node built-in module ("node:fs/promises"), or null where the runtime has none by that name. Taken from
 * process.getBuiltinModule where it exists (Node >= 20.16, Deno, Workers with nodejs_compat), else imported
 * by a name that is not a literal: either way bundlers see no import of it, so a browser bundle neither
 * carries a stub for it nor warns about it. Only called on paths that browsers never take (file: URLs,
 * Node's worker threads).
 */
export async function nodeBuiltin(name) {
  const proc = globalThis.process;
  if (typeof proc?.getBuiltinModule === "function") return proc.getBuiltinModule(name) ?? null;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

/** True when `e` is Deno refusing for want of a permission (Deno.errors.NotCapable; PermissionDenied before Deno 2). */
export function isPermissionError(e) {
  return e?.name === "NotCapable" || e?.name === "PermissionDenied";
}

/** The Deno flag that grants reading `url` (a file: URL) or fetching it (its host). */
export function permissionFlag(url) {
  let u;
  try {
    u = url instanceof URL ? url : new URL(String(url));
  } catch {
    return "--allow-read or --allow-net";
  }
  return u.protocol === "file:" ? `--allow-read=${decodeURIComponent(u.pathname)}` : `--allow-net=${u.host}`;
}
