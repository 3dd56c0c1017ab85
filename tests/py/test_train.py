"""Tests of the training tooling: tools/data/tasks.py (parsing and counts of every task), tools/tokenizer/wordpiece.py's
offsets, tools/train/ (labels of subword tokens, a tiny end-to-end run whose folder tools/convert/
accepts, its determinism, the training forward against tools/eval/reference_bert.py), tools/eval/pytorch.py, and
tools/convert/'s edgetag.json keys.

Run from the repository root (stdlib unittest, temporary folders only, ~20 s):
    /usr/bin/python3 -m unittest tests.py.test_train

Parts that need ../shared/data (the datasets) or PyTorch skip, saying which is missing; the comparison with
the engine's tokenizer also needs build/edgetag (`make native`).
"""

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tools import ROOT
from tools.data import tasks
from tools.fixtures import make_reference
from tools.formats import ggufio
from tools.tokenizer import wordpiece

PY = sys.executable
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))
HAVE_DATA = os.path.isdir(DATA)
HAVE_TORCH = importlib.util.find_spec("torch") is not None
EDGETAG = os.path.join(ROOT, "build", "edgetag")
NO_DATA = "../shared/data (the datasets) is missing"
NO_TORCH = "PyTorch is missing (`make setup` installs python3-torch)"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(*args):
    return subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True)


# ------------------------------------------------------------------------------------------------


class TestTaskHelpers(unittest.TestCase):
    def test_bio_to_spans(self):
        words = ["pump", "seal", "leaking", "at", "the", "inlet"]
        tags = ["B-PhysicalObject", "I-PhysicalObject", "B-State", "O", "B-X", "I-Y"]
        # text "pump seal leaking at the inlet": pump 0-4, seal 5-9, leaking 10-17, the 21-24, inlet 25-30
        self.assertEqual(tasks.bio_to_spans(words, tags),
                         [(0, 9, "PhysicalObject"), (10, 17, "State"), (21, 24, "X"), (25, 30, "Y")])
        self.assertEqual(tasks.bio_to_spans(["a", "b"], ["I-X", "I-X"]), [(0, 3, "X")])
        self.assertEqual(tasks.bio_to_spans([], []), [])

    def test_btc_mentions(self):
        words = ["@", "SportsCenter", ":", "@", "x", "y"]
        tags = ["B-ORG", "B-ORG", "O", "O", "B-PER", "O"]
        self.assertEqual(tasks.btc_fix_mentions(words, tags), ["O", "B-ORG", "O", "O", "B-PER", "O"])
        self.assertEqual(tasks.btc_fix_mentions(["@", "a"], ["B-PER", "B-ORG"]), ["B-PER", "B-ORG"])

    def test_label_order(self):
        self.assertEqual(tasks.bio_labels(("A", "B")), ["O", "B-A", "I-A", "B-B", "I-B"])
        self.assertEqual(tasks.get("maint-ner").labels[:5],
                         ["O", "B-PhysicalObject", "I-PhysicalObject", "B-Activity", "I-Activity"])
        self.assertEqual(len(tasks.get("pii-ner").labels), 1 + 2 * 17)
        self.assertEqual(tasks.get("ner-general").labels, ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])


@unittest.skipUnless(HAVE_DATA, NO_DATA)
class TestTasks(unittest.TestCase):
    EXPECT = {  # (texts, entities or labels) per split
        "intent-clinc": {"train": (15251, 151), "dev": (3100, 151)},
        "maint-ner": {"train": (862, 2421), "dev": (107, 310)},
        "pii-ner": {"train": (1173, 2162), "dev": (162, 346)},
        "ner-general": {"train": (9732, 9057), "dev": (2009, 1743)},
    }

    def test_counts(self):
        for name, splits in self.EXPECT.items():
            t = tasks.get(name, DATA)
            for split, (n_texts, n_y) in splits.items():
                ex = t.examples(split, DATA)
                self.assertEqual(len(ex), n_texts, (name, split))
                if t.kind == "sequence_classification":
                    self.assertEqual(len({y for _, y in ex}), n_y, (name, split))
                else:
                    self.assertEqual(sum(len(s) for _, s in ex), n_y, (name, split))
                    for text, spans in ex:
                        for i, (a, b, typ) in enumerate(spans):
                            self.assertTrue(0 <= a < b <= len(text), (name, text, spans))
                            self.assertIn(typ, t.types)
                            if i:
                                self.assertLessEqual(spans[i - 1][1], a)

    def test_clinc_labels(self):
        labels = tasks.get("intent-clinc", DATA).labels
        self.assertEqual(len(labels), 151)
        self.assertEqual(labels[-1], "oos")
        self.assertEqual(labels[:-1], sorted(labels[:-1]))
        counts = {}
        for _, y in tasks.get("intent-clinc", DATA).examples("train", DATA):
            counts[y] = counts.get(y, 0) + 1
        self.assertEqual(counts["oos"], 251)  # data_full's 100 and the 151 of data_oos_plus's 250 it lacks
        self.assertEqual(set(counts.values()) - {251}, {100})

    def test_maint_spans_follow_the_bio_file(self):
        t = tasks.get("maint-ner", DATA)
        text, spans = t.examples("train", DATA)[0]
        self.assertEqual(text, "<id> air conditioner thermostat not working")
        self.assertEqual([(text[a:b], typ) for a, b, typ in spans],
                         [("air conditioner", "PhysicalObject"), ("thermostat", "PhysicalObject"),
                          ("not working", "State")])

    def test_pii_spans_are_presidio_values(self):
        t = tasks.get("pii-ner", DATA)
        ex = t.examples("dev", DATA)
        types = {typ for _, s in ex for _, _, typ in s}
        self.assertIn("US_SSN", types)  # dev-only types (not in train): see tools/data/tasks.py
        train_types = {typ for _, s in t.examples("train", DATA) for _, _, typ in s}
        self.assertNotIn("US_SSN", train_types)

    def test_value_augmentation(self):
        from tools.train import pii
        ex = tasks.get("pii-ner", DATA).examples("train", DATA)[:50]
        aug = pii.augment_values(ex, 2, 7)
        self.assertEqual(aug[:50], ex)
        with_spans = [e for e in ex if e[1]]
        self.assertEqual(len(aug), 50 + 2 * len(with_spans))
        values = {(t, text[a:b]) for text, spans in ex for a, b, t in spans}
        for (text, spans), (orig, ospans) in zip(aug[50:], with_spans * 2):
            self.assertEqual(len(spans), len(ospans))
            for (a, b, t), (oa, ob, ot) in zip(spans, ospans):
                self.assertEqual(t, ot)
                self.assertIn((t, text[a:b]), values)
            # the text outside the entities is the template's
            self.assertEqual(text[:spans[0][0]], orig[:ospans[0][0]])
            self.assertEqual(text[spans[-1][1]:], orig[ospans[-1][1]:])
        self.assertEqual(pii.augment_values(ex, 2, 7), aug)

    def test_pii_synthetic_texts(self):
        import re
        import numpy as np
        from tools.train import pii
        ex = tasks.get("pii-ner", DATA).examples("train", DATA)
        aug = pii.augment_pii(ex, 400, 7)
        self.assertEqual(aug[:len(ex)], ex)
        self.assertEqual(len(aug), len(ex) + 400)
        self.assertEqual(pii.augment_pii(ex, 400, 7), aug)  # deterministic in the seed
        self.assertNotEqual(pii.augment_pii(ex, 400, 8)[len(ex):], aug[len(ex):])
        dev_texts = {t for t, _ in tasks.get("pii-ner", DATA).examples("dev", DATA)}
        types = set()
        for text, spans in aug[len(ex):]:
            self.assertNotIn(text, dev_texts)
            last = 0
            for a, b, t in spans:  # sorted, not overlapping, inside the text, no blank edges
                self.assertTrue(last <= a < b <= len(text), (text, spans))
                self.assertEqual(text[a:b], text[a:b].strip())
                self.assertIn(t, tasks.PII_TYPES)
                last = b
                types.add(t)
                if t == "US_SSN":
                    self.assertRegex(text[a:b], r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")
        self.assertTrue({"US_SSN", "US_DRIVER_LICENSE", "EMAIL_ADDRESS", "PHONE_NUMBER"} <= types)
        rng = np.random.RandomState(0)
        for _ in range(50):  # generated card numbers pass the Luhn check
            digits = [int(c) for c in re.sub(r"\D", "", pii.gen_pii_value("CREDIT_CARD", rng, ["A B"]))]
            total = sum(d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d)
                        for i, d in enumerate(reversed(digits)))
            self.assertEqual(total % 10, 0)
            self.assertRegex(pii.gen_pii_value("EMAIL_ADDRESS", rng, ["Ann Lee"]), r"^[^@\s]+@[^@\s]+\.[a-z.]+$")

    def test_general_mapping(self):
        ex = tasks.get("ner-general", DATA).examples("train", DATA)
        btc = ex[:6338]
        # no entity is a bare "@" any more
        self.assertFalse(any(text[a:b] == "@" for text, spans in btc for a, b, _ in spans))


class TestOffsets(unittest.TestCase):
    TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", ",", "!",
              "a", "##b", "caf", "##e", "i", "中", "cafe", "x"]

    def test_offsets_by_hand(self):
        tok = wordpiece.BertTokenizer(self.TOKENS, lowercase=True)
        ids, toks, offs = tok.encode_offsets("Unaffable, HELLO!")
        self.assertEqual(toks, ["[CLS]", "un", "##aff", "##able", ",", "hello", "!", "[SEP]"])
        self.assertEqual(offs, [(0, 0), (0, 2), (2, 5), (5, 9), (9, 10), (11, 16), (16, 17), (0, 0)])
        # accents stripped (café -> cafe, the é's offset kept), CJK spaced, [UNK] spans its word, specials
        ids, toks, offs = tok.encode_offsets("Café 中 zzz [MASK]x")
        self.assertEqual(toks, ["[CLS]", "cafe", "中", "[UNK]", "[MASK]", "x", "[SEP]"])
        self.assertEqual(offs, [(0, 0), (0, 4), (5, 6), (7, 10), (11, 17), (17, 18), (0, 0)])
        # İ lowercases to i + U+0307 (dropped as Mn): one origin
        ids, toks, offs = tok.encode_offsets("\u0130")
        self.assertEqual((toks[1], offs[1]), ("i", (0, 1)))
        ids, toks, offs = tok.encode_offsets("a a a a", max_length=4)
        self.assertEqual((toks, offs), (["[CLS]", "a", "a", "[SEP]"], [(0, 0), (0, 1), (2, 3), (0, 0)]))

    def test_normalize_with_origins_matches_normalize(self):
        for lower in (True, False):
            n = wordpiece.BertNormalizer(lowercase=lower)
            for text in ("Crème brûlée", "e\u0301\u0327x", "\u1e69\u0323", "a\x00b\u200bc\td", "Σίσυφος ΑΣ",
                         "中文 𠀀", "ﬁ ǅ", "\u0130stanbul"):
                norm, origins = n.normalize_with_origins(text)
                self.assertEqual(norm, n.normalize(text), text)
                self.assertEqual(len(origins), len(norm))
                self.assertEqual(origins, sorted(origins) if lower is False else origins)

    @unittest.skipUnless(HAVE_DATA, NO_DATA)
    @unittest.skipUnless(os.access(EDGETAG, os.X_OK), "build/edgetag is missing (`make native`)")
    def test_offsets_equal_the_engine(self):
        """ids and code-point offsets of tools/tokenizer/wordpiece.py equal `edgetag tokenize` on dataset texts."""
        tmp = tempfile.mkdtemp(prefix="edgetag-test-")
        try:
            from tools.data import datasets
            from tools.tokenizer import build_vocab
            from tools.formats import tokenizer_json
            texts = []
            for d in datasets.DATASETS:
                texts += [t for _, _, t in datasets.iter_texts(DATA, ("dev",), (d,))][:8]
            texts += ["Ünïcödé naïve café — 北京 İstanbul ﬁ", "tab\tand\u00a0nbsp", "[MASK] [CLS]x"]
            counts = build_vocab.count_words(texts, build_vocab.make_normalizer(True))
            tokens = build_vocab.train_wordpiece(counts, 300)
            folder = os.path.join(tmp, "m")
            os.makedirs(folder)
            tokenizer_json.write_vocab_txt(tokens, os.path.join(folder, "vocab.txt"))
            tokenizer_json.write_tokenizer_files(tokens, folder, lowercase=False, strip_accents=False)
            ref = os.path.join(tmp, "ref")
            r = run(PY, "-m", "tools.fixtures.make_reference", "--shape", "tiny", "-o", ref, "--vocab", folder)
            self.assertEqual(r.returncode, 0, r.stderr)
            gguf = os.path.join(tmp, "m.gguf")
            r = run(PY, "-m", "tools.convert", ref, "-o", gguf)
            self.assertEqual(r.returncode, 0, r.stderr)
            tok = wordpiece.BertTokenizer.from_dir(folder)
            for text in texts:
                if text.startswith("-"):
                    continue
                r = run(EDGETAG, "tokenize", "--model", gguf, text)
                self.assertEqual(r.returncode, 0, r.stderr)
                got = json.loads(r.stdout)
                ids, _, offs = tok.encode_offsets(text)
                self.assertEqual(got["ids"], ids, text)
                self.assertEqual([tuple(o) for o in got["offsets"]], offs, text)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------------------


class TestConvertEdgetagJson(unittest.TestCase):
    """tools/convert/ writes edgetag.json's temperature, threshold, model version and provenance."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="edgetag-test-")
        cls.plain = os.path.join(cls.tmp, "plain")
        make_reference.write_reference("tiny", cls.plain)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def convert(self, folder, *extra):
        out = os.path.join(self.tmp, os.path.basename(folder) + "-%d.gguf" % len(extra))
        r = run(PY, "-m", "tools.convert", folder, "-o", out, *extra)
        return r, out

    def with_edgetag(self, name, edge):
        folder = os.path.join(self.tmp, name)
        shutil.copytree(self.plain, folder)
        with open(os.path.join(folder, "edgetag.json"), "w") as f:
            json.dump(edge, f)
        return folder

    def test_keys(self):
        edge = {"temperature": 1.7, "threshold": 0.42, "model_version": "tiny-1.abc",
                "provenance": {"seed": 7, "source": "ignored", "data_files": [{"file": "x", "sha256": "0"}]}}
        folder = self.with_edgetag("calibrated", edge)
        r, out = self.convert(folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv_types["edgetag.calibration.temperature"], (ggufio.GGUF_TYPE_FLOAT32, None))
        self.assertEqual(g.kv_types["edgetag.escalation.threshold"], (ggufio.GGUF_TYPE_FLOAT32, None))
        self.assertAlmostEqual(g.kv["edgetag.calibration.temperature"], 1.7, places=6)
        self.assertAlmostEqual(g.kv["edgetag.escalation.threshold"], 0.42, places=6)
        self.assertEqual(g.kv["edgetag.model.version"], "tiny-1.abc")
        prov = json.loads(g.kv["edgetag.provenance"])
        self.assertEqual(prov["seed"], 7)
        self.assertEqual(prov["data_files"], [{"file": "x", "sha256": "0"}])
        self.assertEqual(prov["source"], "calibrated")  # the converter's own keys win
        self.assertEqual(prov["weights_sha256"], sha256(os.path.join(folder, "model.safetensors")))
        keys = list(g.kv)
        self.assertLess(keys.index("edgetag.calibration.temperature"), keys.index("edgetag.model.version"))
        # --model-version wins over edgetag.json
        r, out2 = self.convert(folder, "--model-version", "9")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ggufio.read_gguf(out2).kv["edgetag.model.version"], "9")

    def test_null_threshold_and_defaults(self):
        folder = self.with_edgetag("uncalibrated", {"temperature": 1.0, "threshold": None})
        r, out = self.convert(folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv["edgetag.calibration.temperature"], 1.0)
        self.assertNotIn("edgetag.escalation.threshold", g.kv)
        self.assertEqual(g.kv["edgetag.model.version"], "0")

    def test_without_edgetag_json_nothing_changes(self):
        r, out = self.convert(self.plain)
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        for key in ("edgetag.calibration.temperature", "edgetag.escalation.threshold"):
            self.assertNotIn(key, g.kv)
        self.assertEqual(g.kv["edgetag.model.version"], "0")
        self.assertEqual(set(json.loads(g.kv["edgetag.provenance"])),
                         {"source", "weights_file", "weights_sha256", "converter", "architecture"})
        # tests/py/test_convert.py checks the exact key set of files made without edgetag.json

    def test_abstain_label(self):
        folder = self.with_edgetag("abstaining", {"temperature": 1.2, "abstain_label": "neutral"})
        r, out = self.convert(folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv_types["edgetag.escalation.abstain_label"], (ggufio.GGUF_TYPE_STRING, None))
        self.assertEqual(g.kv["edgetag.escalation.abstain_label"], "neutral")
        folder = self.with_edgetag("abstaining-bad", {"abstain_label": "oos"})
        r, _ = self.convert(folder)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("convert.py: error: edgetag.json abstain_label 'oos'"), r.stderr)

    def test_bad_edgetag_json(self):
        for i, edge in enumerate(({"temperature": 0}, {"temperature": "1"}, {"threshold": True},
                                  {"provenance": []}, {"model_version": 3}, [])):
            folder = self.with_edgetag("bad%d" % i, edge)
            r, _ = self.convert(folder)
            self.assertEqual(r.returncode, 1, edge)
            self.assertTrue(r.stderr.startswith("convert.py: error: edgetag.json"), r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)


# ------------------------------------------------------------------------------------------------


@unittest.skipUnless(HAVE_DATA, NO_DATA)
@unittest.skipUnless(HAVE_TORCH, NO_TORCH)
class TestTinyTraining(unittest.TestCase):
    """python3 -m tools.train all --preset tiny (toy sizes, the first 120 texts of each split), twice."""

    TASKS = "maint-ner,intent-clinc"

    @classmethod
    def setUpClass(cls):
        from tools.train import data, model
        cls.data, cls.model = data, model
        cls.tmp = tempfile.mkdtemp(prefix="edgetag-test-")
        cls.runs = []
        for k in range(2):  # separate processes, as a user runs it (tools.train sets its own thread environment)
            out = os.path.join(cls.tmp, "run%d" % k)
            r = run(PY, "-m", "tools.train", "all", "--preset", "tiny", "--out", out, "--data", DATA,
                    "--tasks", cls.TASKS)
            if r.returncode != 0:
                raise RuntimeError("python3 -m tools.train failed:\n" + r.stdout + r.stderr)
            cls.runs.append((out, r.stdout))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_outputs(self):
        out, log = self.runs[0]
        for name in ("vocab/vocab.txt", "vocab/tokenizer.json", "mlm/model.safetensors", "mlm/mlm.json"):
            self.assertTrue(os.path.isfile(os.path.join(out, name)), name)
        self.assertIn("pretrain: epoch 1", log)
        self.assertRegex(log, r"\[\s*\d+\.\ds\] calibrate maint-ner: T = ")
        for name, arch in (("maint-ner", "BertForTokenClassification"),
                           ("intent-clinc", "BertForSequenceClassification")):
            folder = os.path.join(out, name)
            for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                      "edgetag.json"):
                self.assertTrue(os.path.isfile(os.path.join(folder, f)), (name, f))
            with open(os.path.join(folder, "config.json")) as f:
                config = json.load(f)
            self.assertEqual(config["architectures"], [arch])
            labels = tasks.get(name, DATA).labels
            self.assertEqual(config["id2label"], {str(i): l for i, l in enumerate(labels)})
            self.assertEqual(config["label2id"], {l: i for i, l in enumerate(labels)})
            with open(os.path.join(folder, "edgetag.json")) as f:
                edge = json.load(f)
            for key in ("temperature", "threshold", "model_version", "provenance", "metrics", "curve", "rule"):
                self.assertIn(key, edge)
            self.assertGreater(edge["temperature"], 0)
            self.assertTrue(edge["calibrated"])
            self.assertIn("dev_before_calibration", edge["metrics"])
            self.assertIn("dev_after_calibration", edge["metrics"])
            prov = edge["provenance"]
            for key in ("seed", "commands", "finetune_seconds", "torch", "data_files", "hparams"):
                self.assertIn(key, prov)
            for d in prov["data_files"]:
                self.assertEqual(d["sha256"], sha256(os.path.join(DATA, d["file"])))
            gguf = os.path.join(self.tmp, name + ".gguf")
            r = run(PY, "-m", "tools.convert", folder, "-o", gguf)
            self.assertEqual(r.returncode, 0, r.stderr)
            g = ggufio.read_gguf(gguf)
            self.assertEqual(g.kv["bert.classifier.output_labels"], labels)
            self.assertAlmostEqual(g.kv["edgetag.calibration.temperature"], edge["temperature"], places=5)
            self.assertEqual(g.kv["edgetag.model.version"], edge["model_version"])
            self.assertEqual(json.loads(g.kv["edgetag.provenance"])["seed"], prov["seed"])

    def test_abstain_label(self):
        """intent-clinc's edgetag.json names "oos" as the abstain label, and its GGUF file carries it as
        edgetag.escalation.abstain_label; the NER folder has none."""
        out = self.runs[0][0]
        for name, want in (("intent-clinc", "oos"), ("maint-ner", None)):
            folder = os.path.join(out, name)
            with open(os.path.join(folder, "edgetag.json")) as f:
                self.assertEqual(json.load(f).get("abstain_label"), want)
            gguf = os.path.join(self.tmp, name + "-abstain.gguf")
            r = run(PY, "-m", "tools.convert", folder, "-o", gguf)
            self.assertEqual(r.returncode, 0, r.stderr)
            g = ggufio.read_gguf(gguf)
            self.assertEqual(g.kv.get("edgetag.escalation.abstain_label"), want)
            if want is not None:
                self.assertIn(want, g.kv["bert.classifier.output_labels"])

    def test_pii_synth_option(self):
        """finetune --task pii-ner --synth: synthetic texts drawn afresh per epoch, recorded in provenance."""
        out = self.runs[0][0]
        folders = []
        for k in range(2):
            ckpt = os.path.join(self.tmp, "pii%d" % k)
            r = run(PY, "-m", "tools.train", "finetune", "--task", "pii-ner", "--preset", "tiny",
                    "--out", out, "--data", DATA, "--ckpt", ckpt, "--synth", "1", "--epochs", "2")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("240 train", r.stdout)  # 120 texts + 120 synthetic
            folders.append(ckpt)
        r = run(PY, "-m", "tools.train", "calibrate", "--task", "pii-ner", "--out", out, "--data", DATA,
                "--ckpt", folders[0])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(folders[0], "edgetag.json")) as f:
            edge = json.load(f)
        self.assertEqual(edge["provenance"]["hparams"]["synth"], 1.0)
        self.assertIn("--synth 1.0", edge["provenance"]["commands"][-1])
        self.assertIn("span_f1_first_subword", edge["metrics"]["dev_before_calibration"])
        self.assertEqual(sha256(os.path.join(folders[0], "model.safetensors")),
                         sha256(os.path.join(folders[1], "model.safetensors")))

    def test_deterministic(self):
        a, b = self.runs[0][0], self.runs[1][0]
        for name in ("vocab/vocab.txt", "mlm/model.safetensors", "maint-ner/model.safetensors",
                     "intent-clinc/model.safetensors"):
            self.assertEqual(sha256(os.path.join(a, name)), sha256(os.path.join(b, name)), name)
        for name in ("maint-ner", "intent-clinc"):
            with open(os.path.join(a, name, "edgetag.json")) as fa, open(os.path.join(b, name, "edgetag.json")) as fb:
                ea, eb = json.load(fa), json.load(fb)
            self.assertEqual(ea["temperature"], eb["temperature"])
            self.assertEqual(ea["threshold"], eb["threshold"])
            self.assertEqual(ea["curve"], eb["curve"])

    def test_forward_equals_reference(self):
        """The training model (eval mode) computes what tools/eval/reference_bert.py computes from the folder."""
        import numpy as np
        from tools.eval import reference_bert
        import torch
        data, train_model = self.data, self.model
        out = self.runs[0][0]
        for name in ("maint-ner", "intent-clinc"):
            folder = os.path.join(out, name)
            task = tasks.get(name, DATA)
            vocab = data.read_vocab(folder)
            model = train_model.Model(train_model.make_config("tiny", vocab, task.kind, task.labels), task.kind,
                                      len(task.labels))
            from tools.formats import safetensors_np
            state = {k: torch.from_numpy(np.array(v)) for k, v in safetensors_np.load_checkpoint(folder).items()}
            model.load_state_dict(state)
            model.eval()
            tok = data.load_tokenizer(folder)
            enc = data.encode_task(task, task.examples("dev", DATA)[:9], tok)
            ids, mask = data.collate([e["ids"] for e in enc], vocab.index("[PAD]"))
            with torch.no_grad():
                mine = model(ids, mask).numpy()
            ref = reference_bert.ReferenceBert.load(folder).forward(ids, None, mask)["logits"].numpy()
            if task.kind == "token_classification":
                m = mask.numpy().astype(bool)
                mine, ref = mine[m], ref[m]
            np.testing.assert_allclose(mine, ref, atol=2e-5, rtol=1e-5)

    def test_ner_token_labels(self):
        data = self.data
        folder = os.path.join(self.runs[0][0], "vocab")
        tok = data.load_tokenizer(folder)
        task = tasks.get("pii-ner", DATA)
        text = "My name is Justin Beet, call 555-0134"
        enc = data.encode_task(task, [(text, [(11, 22, "PERSON"), (29, 37, "PHONE_NUMBER")])], tok)[0]
        for tag, (a, b) in zip(enc["tags"], enc["offsets"][1:-1]):
            if a >= 11 and b <= 22:
                self.assertEqual(tag, ("B-" if a == 11 else "I-") + "PERSON")
            elif a >= 29:
                self.assertEqual(tag, ("B-" if a == 29 else "I-") + "PHONE_NUMBER")
            else:
                self.assertEqual(tag, "O")
        self.assertEqual(enc["label_ids"][0], -100)
        self.assertEqual(enc["label_ids"][-1], -100)
        self.assertEqual(len(enc["label_ids"]), len(enc["ids"]))
        self.assertEqual(sum(t.startswith("B-") for t in enc["tags"]), 2)

    def test_eval_torch(self):
        out = self.runs[0][0]
        folder = os.path.join(out, "maint-ner")
        dump = os.path.join(self.tmp, "dump.json")
        r = run(PY, "-m", "tools.eval.pytorch", "--task", "maint-ner", "--ckpt", folder, "--data", DATA,
                "--dump", dump, "--texts", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(dump) as f:
            d = json.load(f)
        self.assertEqual(len(d["texts"]), 3)
        t = d["texts"][0]
        self.assertEqual(len(t["logits"]), len(t["ids"]))
        self.assertEqual(len(t["logits"][0]), len(d["labels"]))
        self.assertAlmostEqual(sum(t["probs"][1]), 1.0, places=5)
        r = run(PY, "-m", "tools.eval.pytorch", "--task", "maint-ner", "--ckpt", folder, "--data", DATA,
                "--limit", "120", "--json", os.path.join(self.tmp, "m.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.tmp, "m.json")) as f:
            m = json.load(f)
        with open(os.path.join(folder, "edgetag.json")) as f:
            edge = json.load(f)
        # the same dev examples (tiny = first 120) give the metrics calibrate stored
        self.assertAlmostEqual(m["dev_at_temperature_and_threshold"]["span_f1"],
                               edge["metrics"]["dev_after_calibration"]["span_f1"])


if __name__ == "__main__":
    unittest.main()
