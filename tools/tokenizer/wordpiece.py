"""wordpiece — a small, readable Python BERT tokenizer: BertNormalizer, BertPreTokenizer, WordPiece and the
"[CLS] A [SEP] (B [SEP])" template, as Hugging Face runs them. Standard library only (unicodedata 14.0 in
Debian's Python 3.11).

Usage:
    tok = BertTokenizer.from_dir("build/tok/uncased")          # tokenizer.json (+ tokenizer_config.json)
    ids, type_ids, tokens = tok.encode("Hello, world!", "How are you?")
    ids, tokens, offsets = tok.encode_offsets("Hello, world!", max_length=256)   # [start, end) code points
    words = pre_tokenize(BertNormalizer(lowercase=True).normalize(text))

    /usr/bin/python3 -m tools.tokenizer.wordpiece DIR "some text" ["a pair"] [--flavour rust|js]   # prints the tokens

Two flavours, because the two implementations the project cares about differ (see DEPARTURES below):
    "rust"  the Rust `tokenizers` library (what transformers' BertTokenizerFast and the Python
            `tokenizers` package run): the reference semantics, used to train vocabularies;
    "js"    @huggingface/tokenizers 0.2.0 (npm; transformers.js), the oracle of the C tokenizer's parity test.

BertNormalizer, step by step (clean_text, handle_chinese_chars, strip_accents, lowercase):
    clean_text      drop U+0000, U+FFFD and "control" characters other than \\t \\n \\r, then map whitespace
                    to " ". Control = general category Cc, Cf or Co: Rust calls unicode_categories'
                    is_other(), which (despite the comment above it in tokenizers' bert.rs) is
                    Cc | Cf | Co, so unassigned code points (Cn, noncharacters included) are KEPT; the JS
                    engine keeps them too. drop_unassigned=True also drops Cn, as Google's BERT and
                    transformers' slow (Python) BertTokenizer do. Whitespace = Unicode White_Space (JS: its
                    \\s); the two differ only in U+0085 and U+FEFF, controls that are already dropped.
    chinese chars   " c " around every code point in the BERT CJK ranges (CJK_RANGES).
    strip_accents   NFD, then drop Mn (nonspacing marks). None = follow lowercase.
    lowercase       Rust: per code point str.lower() (Σ -> σ always), after stripping accents.
                    JS: String.prototype.toLowerCase() on the whole text (Σ -> ς at the end of a word:
                    the Unicode Final_Sigma rule), before stripping accents.
BertPreTokenizer: split on whitespace (dropped) and on punctuation (kept, one character per word);
punctuation = ASCII punctuation or general category P*.
WordPiece: greedy longest-match-first over code points, "##" on non-initial pieces; a word longer than
max_input_chars_per_word code points, or with no full cover, is one [UNK].
Special tokens ([PAD] [UNK] [CLS] [SEP] [MASK], not normalized) are cut out of the raw text first
(leftmost-longest match) and kept whole.

OFFSETS (encode_offsets, tokenize_offsets; "rust" flavour only), as the engine's C tokenizer gives them
(src/tokenizer.c, `edgetag tokenize`): [start, end) in code points of the original text (Python string
indices). Every normalized character remembers the original code point it came from (the spaces put
around a CJK ideograph, the pieces of an NFD decomposition and of a lower-case expansion such as İ -> i +
U+0307 all inherit it); a piece spans from the smallest to the largest origin of its characters, plus
one; an [UNK] word spans its whole word; a special token written in the text spans its own characters;
the template's [CLS] and [SEP] get [0, 0]. max_length keeps the first max_length - 2 content tokens, as
Hugging Face's truncation and et_tokenize do.

DEPARTURES of the "js" flavour from "rust" (each checked against node_modules/@huggingface/tokenizers):
    1. CJK ideographs outside the BMP (Extension B+ U+20000.., compatibility supplement U+2F800..) get no
       spaces: the JS loop reads UTF-16 code units, so it never sees an astral code point.
    2. Lowercasing applies the Final_Sigma context rule (String.prototype.toLowerCase).
    3. An empty pair "" is no pair: JS tests `text_pair || null`, so ("a", "") encodes like "a" alone
       ([CLS] a [SEP]); Rust gives [CLS] a [SEP] [SEP] with the last type id 1.
Lowercase-before-strip (JS) versus strip-before-lowercase (Rust) gives the same result for every code point
of Unicode 17 (checked exhaustively in Node), so only the three above are modelled.

Unicode versions, not modelled: this module uses Python's tables (14.0); the JS engine uses V8/ICU's
(Unicode 17 in Node 20.20); Rust mixes the standard library's (current) for White_Space and lowercasing,
unicode-normalization-alignments' for NFD, and unicode_categories 0.1.1's (Unicode 8.0, published 2016)
for Cc/Cf/Co, Mn and P*. Against Unicode 14, those Unicode 8.0 tables miss 13 format characters (U+0890,
U+08E2, U+13430..), 384 nonspacing marks (U+0898.., U+1DFA ...) and 104 punctuation characters (U+2E43 ...),
and still classify U+166D as punctuation, U+111C9 as punctuation and U+1734 as Mn. Between Unicode 14 and
17 only U+0295 and U+1171E changed category, and no lower-case mapping or NFD of a Unicode 14 character
changed.
"""

import argparse
import json
import os
import re
import sys
import unicodedata

FLAVOURS = ("rust", "js")
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# The BERT "Chinese character" ranges (inclusive), as in Google's BERT and both HF implementations.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))

# Unicode White_Space (PropList.txt; unchanged since Unicode 6.3).
WHITE_SPACE = frozenset([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                         0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
# ECMAScript \s: WhiteSpace + LineTerminator (ES2023 §12.2, §12.3): White_Space minus U+0085, plus U+FEFF.
JS_WHITE_SPACE = (WHITE_SPACE - {0x85}) | {0xFEFF}

CONTROL_CATEGORIES = {"rust": frozenset(("Cc", "Cf", "Co")), "js": frozenset(("Cc", "Cf", "Co", "Cs"))}
ASCII_PUNCTUATION = frozenset(range(0x21, 0x30)) | frozenset(range(0x3A, 0x41)) | frozenset(range(0x5B, 0x61)) \
    | frozenset(range(0x7B, 0x7F))


def is_chinese_char(cp):
    """True for a code point in the BERT CJK ranges."""
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def is_punctuation(ch):
    """BertPreTokenizer's punctuation: ASCII punctuation (incl. $ + < = > ^ ` | ~) or category P*."""
    return ord(ch) in ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def _check_flavour(flavour):
    if flavour not in FLAVOURS:
        raise ValueError("flavour must be one of %s, got %r" % (", ".join(FLAVOURS), flavour))


class BertNormalizer:
    """Hugging Face's BertNormalizer. strip_accents None follows lowercase, as in tokenizer.json."""

    def __init__(self, clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True,
                 flavour="rust", drop_unassigned=False):
        _check_flavour(flavour)
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = lowercase if strip_accents is None else bool(strip_accents)
        self.lowercase = lowercase
        self.flavour = flavour
        self._controls = CONTROL_CATEGORIES[flavour] | ({"Cn"} if drop_unassigned else set())
        self._spaces = WHITE_SPACE if flavour == "rust" else JS_WHITE_SPACE
        self._astral_cjk = flavour == "rust"

    def _clean(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (ch not in "\t\n\r" and unicodedata.category(ch) in self._controls):
                continue
            out.append(" " if cp in self._spaces else ch)
        return "".join(out)

    def _space_cjk(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            out.append(" %s " % ch if is_chinese_char(cp) and (cp <= 0xFFFF or self._astral_cjk) else ch)
        return "".join(out)

    @staticmethod
    def _strip(text):
        return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")

    def normalize(self, text):
        if self.clean_text:
            text = self._clean(text)
        if self.handle_chinese_chars:
            text = self._space_cjk(text)
        if self.flavour == "rust":
            if self.strip_accents:
                text = self._strip(text)
            if self.lowercase:
                text = "".join(ch.lower() for ch in text)  # per code point: no Final_Sigma context
        else:
            if self.lowercase:
                text = text.lower()  # whole string: Final_Sigma, as String.prototype.toLowerCase
            if self.strip_accents:
                text = self._strip(text)
        return text

    def normalize_with_origins(self, text):
        """(normalized text, origins): origins[j] is the index in `text` of the code point that
        normalized character j came from. The "rust" flavour only (the "js" one lowercases the whole
        string, Final_Sigma included). Equal to normalize(text) character for character."""
        if self.flavour != "rust":
            raise ValueError("offsets are implemented for the rust flavour only")
        chars, origins = [], []
        for i, ch in enumerate(text):
            cp = ord(ch)
            if self.clean_text:
                if cp == 0 or cp == 0xFFFD or (ch not in "\t\n\r" and unicodedata.category(ch) in self._controls):
                    continue
                if cp in self._spaces:
                    ch = " "
            if self.handle_chinese_chars and is_chinese_char(cp) and (cp <= 0xFFFF or self._astral_cjk):
                chars += [" ", ch, " "]
                origins += [i, i, i]
            else:
                chars.append(ch)
                origins.append(i)
        if self.strip_accents:
            # NFD of the whole text = each character's NFD, then runs of combining characters (canonical
            # class > 0) stably sorted by class across character boundaries; then drop Mn.
            dec, dec_o = [], []
            for ch, o in zip(chars, origins):
                for d in unicodedata.normalize("NFD", ch):
                    dec.append(d)
                    dec_o.append(o)
            i = 0
            while i < len(dec):
                if unicodedata.combining(dec[i]):
                    j = i
                    while j < len(dec) and unicodedata.combining(dec[j]):
                        j += 1
                    run = sorted(zip(dec[i:j], dec_o[i:j]), key=lambda x: unicodedata.combining(x[0]))
                    dec[i:j] = [c for c, _ in run]
                    dec_o[i:j] = [o for _, o in run]
                    i = j
                else:
                    i += 1
            keep = [k for k, d in enumerate(dec) if unicodedata.category(d) != "Mn"]
            chars, origins = [dec[k] for k in keep], [dec_o[k] for k in keep]
        if self.lowercase:
            low, low_o = [], []
            for ch, o in zip(chars, origins):
                for c in ch.lower():
                    low.append(c)
                    low_o.append(o)
            chars, origins = low, low_o
        return "".join(chars), origins


def pre_tokenize(text, flavour="rust"):
    """BertPreTokenizer: words split on whitespace (dropped) and punctuation (each its own word)."""
    spaces = WHITE_SPACE if flavour == "rust" else JS_WHITE_SPACE
    words, cur = [], []
    for ch in text:
        if ord(ch) in spaces:
            if cur:
                words.append("".join(cur))
                cur = []
        elif is_punctuation(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def pre_tokenize_spans(text, flavour="rust"):
    """pre_tokenize with positions: [(word, start, end)] with text[start:end] == word."""
    spaces = WHITE_SPACE if flavour == "rust" else JS_WHITE_SPACE
    out, start = [], None
    for i, ch in enumerate(text):
        if ord(ch) in spaces or is_punctuation(ch):
            if start is not None:
                out.append((text[start:i], start, i))
                start = None
            if ord(ch) not in spaces:
                out.append((ch, i, i + 1))
        elif start is None:
            start = i
    if start is not None:
        out.append((text[start:], start, len(text)))
    return out


class WordPiece:
    """Greedy longest-match-first WordPiece over a vocabulary (tokens in id order)."""

    def __init__(self, tokens, unk_token="[UNK]", prefix="##", max_input_chars_per_word=100):
        self.ids = {t: i for i, t in enumerate(tokens)}
        if unk_token not in self.ids:
            raise ValueError("the vocabulary has no %s token" % unk_token)
        self.unk_token = unk_token
        self.prefix = prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.max_len = max(len(t) for t in tokens)

    def tokenize_word(self, word):
        """The pieces of one pre-tokenized word, or None when it is unknown (too long or no cover)."""
        if len(word) > self.max_input_chars_per_word:
            return None
        pieces, start = [], 0
        while start < len(word):
            end = min(len(word), start + self.max_len)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.ids:
                    break
                end -= 1
            if end == start:
                return None
            pieces.append(piece)
            start = end
        return pieces

    def tokenize_word_spans(self, word):
        """[(piece, start, end)] with [start, end) the piece's characters in the word, or None."""
        pieces = self.tokenize_word(word)
        if pieces is None:
            return None
        out, pos = [], 0
        for p in pieces:
            n = len(p) - (len(self.prefix) if pos else 0)
            out.append((p, pos, pos + n))
            pos += n
        return out

    def tokenize(self, words):
        out = []
        for w in words:
            pieces = self.tokenize_word(w)
            out.extend(pieces if pieces is not None else [self.unk_token])
        return out


class BertTokenizer:
    """Normalizer + pre-tokenizer + WordPiece + template, with the special tokens cut out first."""

    def __init__(self, tokens, lowercase=True, strip_accents=None, handle_chinese_chars=True,
                 max_input_chars_per_word=100, flavour="rust"):
        _check_flavour(flavour)
        self.tokens = list(tokens)
        self.flavour = flavour
        self.normalizer = BertNormalizer(True, handle_chinese_chars, strip_accents, lowercase, flavour)
        self.model = WordPiece(self.tokens, max_input_chars_per_word=max_input_chars_per_word)
        self.ids = self.model.ids
        specials = sorted((t for t in SPECIAL_TOKENS if t in self.ids), key=lambda t: (-len(t), t))
        self._special_re = re.compile("|".join(map(re.escape, specials))) if specials else None
        for t in ("[CLS]", "[SEP]"):
            if t not in self.ids:
                raise ValueError("the vocabulary has no %s token" % t)

    @classmethod
    def from_dir(cls, folder, flavour="rust"):
        """From folder/tokenizer.json (its normalizer and model), or folder/vocab.txt + tokenizer_config.json."""
        tj_path = os.path.join(folder, "tokenizer.json")
        if os.path.isfile(tj_path):
            with open(tj_path, "r", encoding="utf-8") as f:
                tj = json.load(f)
            vocab, norm = tj["model"]["vocab"], tj["normalizer"]
            tokens = [None] * len(vocab)
            for t, i in vocab.items():
                tokens[i] = t
            return cls(tokens, norm["lowercase"], norm["strip_accents"], norm["handle_chinese_chars"],
                       tj["model"].get("max_input_chars_per_word", 100), flavour)
        with open(os.path.join(folder, "vocab.txt"), "r", encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f.readlines()]
        cfg = {}
        cfg_path = os.path.join(folder, "tokenizer_config.json")
        if os.path.isfile(cfg_path):
            with open(cfg_path, "r", encoding="utf-8") as f:
                cfg = json.load(f)
        return cls(tokens, cfg.get("do_lower_case", True), cfg.get("strip_accents"),
                   cfg.get("tokenize_chinese_chars", True), 100, flavour)

    def tokenize(self, text):
        """Tokens of one text, without the template."""
        out, pos = [], 0
        sections = []
        if self._special_re is not None:
            for m in self._special_re.finditer(text):
                sections.append((text[pos:m.start()], False))
                sections.append((m.group(0), True))
                pos = m.end()
        sections.append((text[pos:], False))
        for section, special in sections:
            if special:
                out.append(section)
            elif section:
                out.extend(self.model.tokenize(pre_tokenize(self.normalizer.normalize(section), self.flavour)))
        return out

    def tokenize_offsets(self, text):
        """(tokens, offsets) of one text without the template; offsets are [start, end) code points of
        `text` (see OFFSETS in the module docstring)."""
        tokens, offsets, pos = [], [], 0
        sections = []
        if self._special_re is not None:
            for m in self._special_re.finditer(text):
                sections.append((pos, m.start(), False))
                sections.append((m.start(), m.end(), True))
                pos = m.end()
        sections.append((pos, len(text), False))
        for a, b, special in sections:
            if special:
                tokens.append(text[a:b])
                offsets.append((a, b))
                continue
            if a == b:
                continue
            norm, origins = self.normalizer.normalize_with_origins(text[a:b])
            for word, ws, we in pre_tokenize_spans(norm, self.flavour):
                spans = self.model.tokenize_word_spans(word)
                if spans is None:
                    o = origins[ws:we]
                    tokens.append(self.model.unk_token)
                    offsets.append((a + min(o), a + max(o) + 1))
                    continue
                for piece, ps, pe in spans:
                    o = origins[ws + ps:ws + pe]
                    tokens.append(piece)
                    offsets.append((a + min(o), a + max(o) + 1))
        return tokens, offsets

    def encode_offsets(self, text, max_length=None):
        """(ids, tokens, offsets) of [CLS] text [SEP], keeping the first max_length - 2 content tokens
        when max_length is given; [CLS] and [SEP] get (0, 0)."""
        tokens, offsets = self.tokenize_offsets(text)
        if max_length is not None:
            if max_length < 2:
                raise ValueError("max_length must be at least 2, got %d" % max_length)
            tokens, offsets = tokens[:max_length - 2], offsets[:max_length - 2]
        tokens = ["[CLS]"] + tokens + ["[SEP]"]
        offsets = [(0, 0)] + offsets + [(0, 0)]
        return [self.ids[t] for t in tokens], tokens, offsets

    def encode(self, text, pair=None):
        """(ids, type_ids, tokens) with [CLS] A [SEP] (B [SEP]); an empty pair is no pair in "js"."""
        if self.flavour == "js" and pair == "":
            pair = None
        tokens = ["[CLS]"] + self.tokenize(text) + ["[SEP]"]
        type_ids = [0] * len(tokens)
        if pair is not None:
            b = self.tokenize(pair) + ["[SEP]"]
            tokens += b
            type_ids += [1] * len(b)
        return [self.ids[t] for t in tokens], type_ids, tokens


def main(argv=None):
    ap = argparse.ArgumentParser(prog="wordpiece.py", description="Tokenize a text with a BERT tokenizer folder.")
    ap.add_argument("folder", help="folder with tokenizer.json, or vocab.txt (+ tokenizer_config.json)")
    ap.add_argument("text")
    ap.add_argument("pair", nargs="?")
    ap.add_argument("--flavour", choices=FLAVOURS, default="rust", help="rust (default) or js semantics")
    args = ap.parse_args(argv)
    tok = BertTokenizer.from_dir(args.folder, args.flavour)
    ids, type_ids, tokens = tok.encode(args.text, args.pair)
    print(json.dumps({"ids": ids, "type_ids": type_ids, "tokens": tokens}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
