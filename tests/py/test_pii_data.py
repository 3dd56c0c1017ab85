"""Tests of pii-ner's data: the realistic evaluation set (tests/fixtures/pii-eval/, tools/data/pii_eval.py) — its gold
offsets slice to their values, eval.jsonl is what the sources give, it has the size the issue asks for — and the
training mix (tools/train/pii_mix.py and its modules) — social-media sentences detokenized with their entities
in place, carrier texts' spans, and no evaluation text among the generated training texts.

    /usr/bin/python3 -m unittest tests.py.test_pii_data
"""

import importlib.util
import os
import unittest

from tools import ROOT
from tools.data import pii_eval, tasks

DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
HAVE_DATA = os.path.isdir(DATA)
HAVE_FAKER = importlib.util.find_spec("faker") is not None and importlib.util.find_spec("numpy") is not None


class TestEvalSet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.records = pii_eval.load()

    def test_offsets_slice_to_the_values(self):
        for r in self.records:
            last = 0
            for e in r["entities"]:
                self.assertEqual(r["text"][e["start"]:e["end"]], e["text"], r["id"])
                self.assertIn(e["label"], tasks.PII_TYPES, r["id"])
                self.assertGreaterEqual(e["start"], last, "%s: overlapping or unsorted spans" % r["id"])
                self.assertEqual(e["text"], e["text"].strip(), r["id"])
                last = e["end"]

    def test_jsonl_is_built_from_the_sources(self):
        with open(pii_eval.JSONL, encoding="utf-8") as f:
            self.assertEqual(pii_eval.dumps(pii_eval.read_sources()), f.read(),
                             "eval.jsonl is stale: python3 -m tools.data.pii_eval")

    def test_size_and_variety(self):
        with_pii = [r for r in self.records if r["entities"]]
        self.assertGreaterEqual(len(with_pii), 200)
        self.assertGreaterEqual(len(self.records) - len(with_pii), 50)
        kinds = {r["kind"] for r in with_pii}
        self.assertTrue({"ticket", "email", "clinical", "field", "chat", "form", "letter"} <= kinds, kinds)
        texts = [r["text"] for r in self.records]
        self.assertEqual(len(set(texts)), len(texts), "duplicate texts")
        self.assertTrue(any(r["text"] == r["text"].lower() and r["entities"] for r in self.records))
        self.assertTrue(any(any(ord(c) > 0x2FF for c in e["text"]) for r in self.records for e in r["entities"]))

    def test_markup_errors(self):
        self.assertEqual(pii_eval.parse_markup("Call ⟦Anna|P⟧ on ⟦555-0101|PH⟧"),
                         ("Call Anna on 555-0101", [{"start": 5, "end": 9, "label": "PERSON", "text": "Anna"},
                                                    {"start": 13, "end": 21, "label": "PHONE_NUMBER",
                                                     "text": "555-0101"}]))
        for bad in ("⟦Anna|X⟧", "⟦Anna⟧", "⟦Anna|P", "⟦ Anna|P⟧", "a ⟧ b"):
            with self.assertRaises(pii_eval.EvalSetError, msg=bad):
                pii_eval.parse_markup(bad)


class TestSources(unittest.TestCase):
    def test_detokenize(self):
        from tools.train import pii_sources
        words = ["Thank", "You", "Cody", "for", "following", "me", ":", ")", "@", "Gateshead", "'s", "best", "!"]
        text, offs = pii_sources.detokenize(words, ["O"] * len(words))
        self.assertEqual(text, "Thank You Cody for following me:) @Gateshead's best!")
        for w, (a, b) in zip(words, offs):
            self.assertEqual(text[a:b], w)

    def test_entities(self):
        from tools.train import pii_sources
        words = ["@", "SportsCenter", "loves", "New", "York", "and", "http://t.co/x", "Tosca", "John", "Smith"]
        tags = ["B-ORG", "B-ORG", "O", "B-LOC", "I-LOC", "O", "O", "B-creative-work", "B-person", "I-person"]
        text, offs = pii_sources.detokenize(words, tags)
        ents = pii_sources._entities(words, tags, offs)
        self.assertEqual([(text[a:b], t) for a, b, t in ents],
                         [("@SportsCenter", "ORGANIZATION"), ("New York", "GPE"), ("http://t.co/x", "DOMAIN_NAME"),
                          ("John Smith", "PERSON")])

    @unittest.skipUnless(HAVE_DATA, "../shared/data is missing")
    def test_social_and_negatives(self):
        from tools.train import pii_sources
        ex = pii_sources.social_examples(DATA)
        self.assertEqual(len(ex), 6338 + 3394)
        for text, spans in ex:
            for a, b, t in spans:
                self.assertTrue(0 <= a < b <= len(text) and t in tasks.PII_TYPES, (text, spans))
        maint, clinc = pii_sources.negative_texts(DATA)
        self.assertEqual(len(maint), 862)
        self.assertGreater(len(clinc), 10000)
        self.assertFalse(any("paris" in t.split() for t in clinc))


@unittest.skipUnless(HAVE_DATA and HAVE_FAKER, "../shared/data or python3-fake-factory is missing")
class TestMix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from tools.train.pii_mix import PiiMix
        cls.mix = PiiMix(DATA, 1234, per_locale=15)
        train = tasks.get("pii-ner", DATA).examples("train", DATA)
        cls.epoch = cls.mix.epoch(train, 0, 1234, scale=0.4, synth=0.2)

    def test_spans(self):
        for text, spans in self.epoch:
            last = 0
            for a, b, t in spans:
                self.assertTrue(last <= a < b <= len(text), (text, spans))
                self.assertIn(t, tasks.PII_TYPES)
                self.assertEqual(text[a:b], text[a:b].strip())
                last = b
        generated = self.epoch[1173 + 235:1173 + 235 + 2800]
        self.assertGreater(sum(1 for _, s in generated if not s), 100, "PII-free generated texts")
        self.assertGreater(sum(1 for _, s in generated if any(t == "PERSON" for *_, t in s)), 1000)

    def test_first_and_last_name_are_one_person(self):
        from tools.train.pii_mix import _clean
        self.assertEqual(_clean("Hello Sonia Johansson, hi", [(6, 11, "PERSON"), (12, 21, "PERSON")]),
                         [(6, 21, "PERSON")])
        self.assertEqual(_clean("Ann and Bo", [(0, 3, "PERSON"), (8, 10, "PERSON")]),
                         [(0, 3, "PERSON"), (8, 10, "PERSON")])

    def test_deterministic(self):
        train = tasks.get("pii-ner", DATA).examples("train", DATA)[:50]
        self.assertEqual(self.mix.epoch(train, 3, 7, scale=0.05), self.mix.epoch(train, 3, 7, scale=0.05))
        self.assertNotEqual(self.mix.epoch(train, 3, 7, scale=0.05), self.mix.epoch(train, 4, 7, scale=0.05))

    def test_no_evaluation_text_is_trained_on(self):
        """No text of the realistic set occurs in a generated training text, and no training text of 25 or more
        characters occurs in an evaluation text (case and blanks folded)."""
        def fold(s):
            return " ".join(s.lower().split())
        train = "\x00".join(fold(t) for t, _ in self.epoch)
        evals = [fold(r["text"]) for r in pii_eval.load()]
        for e in evals:
            self.assertNotIn(e, train)
        joined = "\x00".join(evals)
        for t, _ in self.epoch:
            f = fold(t)
            if len(f) >= 25:
                self.assertNotIn(f, joined)


if __name__ == "__main__":
    unittest.main()
