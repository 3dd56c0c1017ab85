// utf8.js — the UTF-8 size of a string without encoding it: what the engine will be given (model.js) and what a
// captured record takes in a store (capture/record.js).

/** The bytes of a string in UTF-8 (a lone surrogate as U+FFFD's three, as TextEncoder writes it). */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) n += 4, i++;
    else n += 3;
  }
  return n;
}
