// gguf-edit.mjs — small edits of a GGUF file for tests: a string array's values replaced (the labels), the file
// laid out again (tensor data realigned, offsets unchanged, since they count from the data section).

const SIZES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Walks a GGUF file: {version, kvs: [{key, type, start, end, value?}], infosStart, infosEnd, dataStart, alignment}. */
export function parseGguf(bytes) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => { const v = buf.readUInt32LE(at); at += 4; return v; };
  const u64 = () => { const v = Number(buf.readBigUInt64LE(at)); at += 8; return v; };
  const str = () => { const n = u64(); const s = buf.toString("utf8", at, at + n); at += n; return s; };
  if (u32() !== 0x46554747) throw new Error("not GGUF");
  const version = u32(), nTensors = u64(), nKv = u64();
  const kvs = [];
  let alignment = 32;
  const skip = (type) => {
    if (type === 8) return str();
    if (type === 9) {
      const t = u32(), n = u64(), out = [];
      for (let i = 0; i < n; i++) out.push(skip(t));
      return out;
    }
    const v = type === 4 ? buf.readUInt32LE(at) : undefined;
    at += SIZES[type];
    return v;
  };
  for (let i = 0; i < nKv; i++) {
    const start = at, key = str(), type = u32(), value = skip(type);
    if (key === "general.alignment") alignment = value;
    kvs.push({ key, type, start, end: at, value });
  }
  const infosStart = at;
  for (let i = 0; i < nTensors; i++) {
    str();
    const dims = u32();
    at += 8 * dims + 4 + 8;
  }
  const infosEnd = at;
  return { version, kvs, infosStart, infosEnd, dataStart: Math.ceil(infosEnd / alignment) * alignment, alignment };
}

/** The file with the string array `key` holding `values` instead. */
export function withStrings(bytes, key, values) {
  const f = parseGguf(bytes);
  const kv = f.kvs.find((k) => k.key === key);
  if (!kv) throw new Error(`no key ${key}`);
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
  str(key), u32(9), u32(8), u64(values.length);
  for (const v of values) str(v);
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = Buffer.concat([src.subarray(0, kv.start), ...parts, src.subarray(kv.end, f.infosEnd)]);
  const pad = Buffer.alloc(Math.ceil(header.length / f.alignment) * f.alignment - header.length);
  return new Uint8Array(Buffer.concat([header, pad, src.subarray(f.dataStart)]));
}
