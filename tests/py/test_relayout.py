"""Tests of tools/convert/relayout.py, the upgrade of an edgetag GGUF file to format 2 (models/FORMAT.md):

  - a format 2 file comes out byte-identical;
  - a file of format 1 (written here by `downgrade`, the first layout as FORMAT.md describes it: vocab.txt's
    spelling, cls_token_id only, edgetag.labels and edgetag.tokenizer.* flags, scales "X.scale") comes out as
    the converter writes the same checkpoint today, byte for byte, for a sequence classifier with calibration
    and an abstain label, and a token classifier with its aggregation;
  - an int8 file keeps every tensor's bytes (its scales renamed), and the engine gives the same tokens and
    logits for the format 1 and format 2 files;
  - a file that is not edgetag's is refused with one line.
The shipped models were upgraded with this tool (their int8 files re-made by `edgetag quantize`, which gives
the same tensors); tests/js/models.test.mjs checks them against their PyTorch goldens.

Run from the repository root: /usr/bin/python3 -m unittest tests.py.test_relayout
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tools import ROOT
from tools.convert.layout import from_llamacpp_spelling
from tools.fixtures import make_reference
from tools.formats import ggufio

CLI = os.path.join(ROOT, "build", "edgetag")  # make test-py builds it first
BGE = os.path.join(ROOT, "tests", "fixtures", "llamacpp", "ggml-vocab-bert-bge.gguf")
STR, I32, U32 = ggufio.GGUF_TYPE_STRING, ggufio.GGUF_TYPE_INT32, ggufio.GGUF_TYPE_UINT32
ROW_SCALE = "edgetag.row_scale."


def run(*args):
    return subprocess.run([str(a) for a in args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def downgrade(src, dst):
    """Writes src (format 2) as the first converter and quantizer wrote files of format 1."""
    g = ggufio.read_gguf(src)
    kv, kt = g.kv, g.kv_types
    w = ggufio.GGUFWriter()
    lowercase, strip = kv["tokenizer.ggml.normalizer.lowercase"], kv["tokenizer.ggml.normalizer.strip_accents"]
    v2_only = {"bert.classifier.output_labels", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
               "tokenizer.ggml.normalizer.lowercase", "tokenizer.ggml.normalizer.strip_accents"}
    tail = ("edgetag.calibration.temperature", "edgetag.escalation.threshold", "edgetag.escalation.abstain_label",
            "edgetag.tagging.aggregation", "edgetag.model.version", "edgetag.provenance", "general.alignment",
            "edgetag.quantization")
    for key, value in kv.items():
        if key in v2_only or key in tail or key.startswith("edgetag.tokenizer."):
            continue
        if key == "tokenizer.ggml.tokens":
            value = from_llamacpp_spelling(value, kv["tokenizer.ggml.token_type"])
        if key == "edgetag.format_version":
            value = 1
        w.add_value(key, kt[key][0], value, kt[key][1])
        if key == "edgetag.task" and "bert.classifier.output_labels" in kv:
            w.add_array("edgetag.labels", kv["bert.classifier.output_labels"], STR)
        if key == "edgetag.hidden_act":
            w.add_bool("edgetag.tokenizer.do_lower_case", lowercase)
            w.add_i32("edgetag.tokenizer.strip_accents", -1 if strip == lowercase else int(strip))
            w.add_bool("edgetag.tokenizer.tokenize_chinese_chars", kv["edgetag.tokenizer.tokenize_chinese_chars"])
            w.add_u32("edgetag.tokenizer.max_input_chars_per_word", kv["edgetag.tokenizer.max_input_chars_per_word"])
    for key in tail:
        if key in kv:
            value = kv[key]
            if key == "edgetag.provenance":
                value = json.dumps(dict(json.loads(value), converter="edgetag tools/convert.py 1"), separators=(",", ":"))
            w.add_value(key, kt[key][0], value, kt[key][1])
    for name, t in g.tensors.items():
        if name.startswith(ROW_SCALE):
            name = name[len(ROW_SCALE):-len(".weight")] + ".scale"
        w.add_tensor_raw(name, t.ne, t.type, t.raw)
    w.write(dst)


class TestRelayout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="edgetag-relayout-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def convert(self, shape, edgetag=None, *args):
        folder = self.path(shape)
        if not os.path.isdir(folder):
            make_reference.write_reference(shape, folder)
        if edgetag is not None:
            with open(os.path.join(folder, "edgetag.json"), "w") as f:
                json.dump(edgetag, f)
        out = self.path(shape + ".gguf")
        r = run(sys.executable, "-m", "tools.convert", folder, "-o", out, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def relayout(self, src, name):
        out = self.path(name)
        r = run(sys.executable, "-m", "tools.convert.relayout", src, out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def assert_same_bytes(self, a, b):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertTrue(fa.read() == fb.read(), "%s and %s differ" % (a, b))

    def test_format_1_becomes_what_the_converter_writes(self):
        cases = (("tiny", {"temperature": 1.25, "threshold": 0.5, "abstain_label": "neutral",
                           "provenance": {"seed": 7}}, ()),
                 ("odd", None, ("--aggregation", "first")))
        for shape, edgetag, args in cases:
            v2 = self.convert(shape, edgetag, *args)
            v1 = self.path(shape + "-v1.gguf")
            downgrade(v2, v1)
            g1 = ggufio.read_gguf(v1)
            self.assertEqual(g1.kv["edgetag.format_version"], 1)
            self.assertIn("##", "".join(g1.kv["tokenizer.ggml.tokens"]))
            self.assert_same_bytes(self.relayout(v1, shape + "-up.gguf"), v2)
            self.assert_same_bytes(self.relayout(v2, shape + "-again.gguf"), v2)  # format 2: unchanged

    def test_int8_keeps_its_tensors_and_answers(self):
        v2 = self.convert("tiny")
        i8 = self.path("tiny-i8.gguf")
        r = run(CLI, "quantize", v2, i8, "--type", "i8")
        self.assertEqual(r.returncode, 0, r.stderr)
        v1 = self.path("tiny-i8-v1.gguf")
        downgrade(i8, v1)
        up = self.relayout(v1, "tiny-i8-up.gguf")
        a, b, old = ggufio.read_gguf(up), ggufio.read_gguf(i8), ggufio.read_gguf(v1)
        self.assertEqual(a.kv, b.kv)
        self.assertEqual(list(a.tensors), list(b.tensors))
        self.assertIn("token_embd.scale", old.tensors)
        self.assertIn(ROW_SCALE + "token_embd.weight", a.tensors)
        for name, t in a.tensors.items():
            self.assertEqual((t.ne, t.type, bytes(t.raw)), (b.tensors[name].ne, b.tensors[name].type,
                                                            bytes(b.tensors[name].raw)), name)
        # The engine reads both layouts the same way.
        outputs = []
        for f in (v1, up):
            tok = run(CLI, "tokenize", "--model", f, "--", "Hello, unaffable world! Ünïcödé 中文 tokens##s")
            self.assertEqual(tok.returncode, 0, tok.stderr)
            ids = ",".join(map(str, json.loads(tok.stdout)["ids"]))
            logits = run(CLI, "logits", "--model", f, "--ids", ids)
            self.assertEqual(logits.returncode, 0, logits.stderr)
            outputs.append((tok.stdout, logits.stdout))
        self.assertEqual(outputs[0], outputs[1])

    def test_refuses_other_files(self):
        r = run(sys.executable, "-m", "tools.convert.relayout", BGE, self.path("bge.gguf"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip().splitlines(), [
            "relayout: error: %s: edgetag.format_version is None: not an edgetag file of format 1 or 2" % BGE])
        self.assertFalse(os.path.exists(self.path("bge.gguf")))


if __name__ == "__main__":
    unittest.main()
