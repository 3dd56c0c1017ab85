// snippets.mjs — the README's code blocks that the package test runs verbatim. A block takes part when its
// fence's info string names a language and then one or more tags: ```js node deno```, ```html page```,
// ```js vite```, ```sh esbuild```, ```js worker```, ```toml wrangler```.

/** Every fenced block of `markdown`: {lang, tags, code}. */
export function blocks(markdown) {
  return [...markdown.matchAll(/^```(\S*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)].map(([, lang, rest, code]) => ({
    lang, tags: rest.trim().split(/\s+/).filter(Boolean), code,
  }));
}

/** The one block of language `lang` tagged `tag`; throws when there is none or more than one. */
export function snippet(markdown, lang, tag) {
  const found = blocks(markdown).filter((b) => b.lang === lang && b.tags.includes(tag));
  if (found.length !== 1) throw new Error(`README.md has ${found.length} \`\`\`${lang} … ${tag}\`\`\` blocks, not one`);
  return found[0].code;
}
