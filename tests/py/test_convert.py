"""Tests of the Python tooling: tools/formats/ggufio.py, tools/formats/safetensors_np.py,
tools/fixtures/make_reference.py and tools/convert/ (keys, tensors, shapes and types per models/FORMAT.md; data
equal to the source; determinism; the input variants; the abstain label; one-line errors).

Run from the repository root (stdlib unittest, temporary directories only, ~20 s):
    /usr/bin/python3 -m unittest tests.py.test_convert
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

import numpy as np

from tools import ROOT
from tools.convert.layout import PHANTOM
from tools.fixtures import make_reference
from tools.formats import ggufio, safetensors_np

CLI = os.path.join(ROOT, "build", "edgetag")  # make test builds it first

HAVE_TORCH = importlib.util.find_spec("torch") is not None

U32, I32, F32, BOOL, STR, ARR = (ggufio.GGUF_TYPE_UINT32, ggufio.GGUF_TYPE_INT32, ggufio.GGUF_TYPE_FLOAT32,
                                 ggufio.GGUF_TYPE_BOOL, ggufio.GGUF_TYPE_STRING, ggufio.GGUF_TYPE_ARRAY)

# Every key convert.py writes, with its GGUF type (FORMAT.md).
COMMON_KEYS = {
    "general.architecture": (STR, None),
    "general.name": (STR, None),
    "general.alignment": (U32, None),
    "general.file_type": (U32, None),
    "bert.context_length": (U32, None),
    "bert.embedding_length": (U32, None),
    "bert.feed_forward_length": (U32, None),
    "bert.block_count": (U32, None),
    "bert.attention.head_count": (U32, None),
    "bert.attention.layer_norm_epsilon": (F32, None),
    "bert.attention.causal": (BOOL, None),
    "bert.pooling_type": (U32, None),
    "tokenizer.ggml.model": (STR, None),
    "tokenizer.ggml.tokens": (ARR, STR),
    "tokenizer.ggml.token_type": (ARR, I32),
    "tokenizer.ggml.token_type_count": (U32, None),
    "tokenizer.ggml.bos_token_id": (U32, None),
    "tokenizer.ggml.eos_token_id": (U32, None),
    "tokenizer.ggml.unknown_token_id": (U32, None),
    "tokenizer.ggml.seperator_token_id": (U32, None),
    "tokenizer.ggml.padding_token_id": (U32, None),
    "tokenizer.ggml.cls_token_id": (U32, None),
    "tokenizer.ggml.mask_token_id": (U32, None),
    "tokenizer.ggml.normalizer.lowercase": (BOOL, None),
    "tokenizer.ggml.normalizer.strip_accents": (BOOL, None),
    "edgetag.format_version": (U32, None),
    "edgetag.task": (STR, None),
    "edgetag.hidden_act": (STR, None),
    "edgetag.tokenizer.tokenize_chinese_chars": (BOOL, None),
    "edgetag.tokenizer.max_input_chars_per_word": (U32, None),
    "edgetag.model.version": (STR, None),
    "edgetag.provenance": (STR, None),
}

LAYER_PARTS = [  # (GGUF part, HF part)
    ("attn_q", "attention.self.query"), ("attn_k", "attention.self.key"),
    ("attn_v", "attention.self.value"), ("attn_output", "attention.output.dense"),
    ("attn_output_norm", "attention.output.LayerNorm"), ("ffn_up", "intermediate.dense"),
    ("ffn_down", "output.dense"), ("layer_output_norm", "output.LayerNorm"),
]


def run_convert(*args):
    return subprocess.run([sys.executable, "-m", "tools.convert"] + [str(a) for a in args], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def expected_layout(shape):
    """[(GGUF name, HF name without prefix)] in file order for a reference shape."""
    s = make_reference.SHAPES[shape]
    out = [("token_embd.weight", "embeddings.word_embeddings.weight"),
           ("position_embd.weight", "embeddings.position_embeddings.weight"),
           ("token_types.weight", "embeddings.token_type_embeddings.weight"),
           ("token_embd_norm.weight", "embeddings.LayerNorm.weight"),
           ("token_embd_norm.bias", "embeddings.LayerNorm.bias")]
    for n in range(s["layers"]):
        for g, h in LAYER_PARTS:
            for wb in ("weight", "bias"):
                out.append(("blk.%d.%s.%s" % (n, g, wb), "encoder.layer.%d.%s.%s" % (n, h, wb)))
    if s["arch"] != "BertForTokenClassification":
        out += [("cls.weight", "pooler.dense.weight"), ("cls.bias", "pooler.dense.bias")]
    if s["labels"]:
        out += [("cls.output.weight", "classifier.weight"), ("cls.output.bias", "classifier.bias")]
    return out


def write_safetensors_tensors(folder, tensors):
    safetensors_np.save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


class ConvertCase(unittest.TestCase):
    """Shared fixtures: one temporary directory with the tiny reference folder and its f32 GGUF."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="edgetag-test-")
        cls.tiny = os.path.join(cls.tmp, "tiny")
        make_reference.write_reference("tiny", cls.tiny)
        cls.tiny_gguf = os.path.join(cls.tmp, "tiny.gguf")
        r = run_convert(cls.tiny, "-o", cls.tiny_gguf)
        if r.returncode != 0:
            raise RuntimeError("converting tiny failed: " + r.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def copy_tiny(self, name):
        dst = os.path.join(self.tmp, name)
        shutil.copytree(self.tiny, dst)
        return dst

    def check_model(self, gguf_path, folder, shape, outtype="f32"):
        """Keys, types, tensors and data of a converted reference folder against FORMAT.md."""
        s = make_reference.SHAPES[shape]
        g = ggufio.read_gguf(gguf_path)
        task = make_reference.TASKS[s["arch"]]
        keys = dict(COMMON_KEYS)
        if s["labels"]:
            keys["bert.classifier.output_labels"] = (ARR, STR)
        self.assertEqual(g.version, 3)
        self.assertEqual(g.kv_types, keys)
        kv = g.kv
        vocab = make_reference.make_vocab(s["vocab"])
        # llama.cpp's spelling: added tokens as they are, "##x" -> "x", any other "x" -> "▁x"
        spelled = [t if t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]") else t[2:] if t.startswith("##")
                   else PHANTOM + t for t in vocab]
        with open(os.path.join(folder, "model.safetensors"), "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        expect = {
            "general.architecture": "bert", "general.name": os.path.basename(folder), "general.alignment": 32,
            "general.file_type": 1 if outtype == "f16" else 0,
            "bert.context_length": s["positions"], "bert.embedding_length": s["hidden"],
            "bert.feed_forward_length": s["ffn"], "bert.block_count": s["layers"],
            "bert.attention.head_count": s["heads"], "bert.attention.layer_norm_epsilon": float(np.float32(s["eps"])),
            "bert.attention.causal": False,
            "bert.pooling_type": {"embedding": 1, "sequence_classification": 4, "token_classification": 0}[task],
            "tokenizer.ggml.model": "bert", "tokenizer.ggml.tokens": spelled,
            "tokenizer.ggml.token_type_count": s["types"], "tokenizer.ggml.bos_token_id": 101,
            "tokenizer.ggml.eos_token_id": 102,
            "tokenizer.ggml.unknown_token_id": 100, "tokenizer.ggml.seperator_token_id": 102,
            "tokenizer.ggml.padding_token_id": 0, "tokenizer.ggml.cls_token_id": 101,
            "tokenizer.ggml.mask_token_id": 103, "tokenizer.ggml.normalizer.lowercase": True,
            "tokenizer.ggml.normalizer.strip_accents": True, "edgetag.format_version": 2, "edgetag.task": task,
            "edgetag.hidden_act": "gelu", "edgetag.tokenizer.tokenize_chinese_chars": True,
            "edgetag.tokenizer.max_input_chars_per_word": 100, "edgetag.model.version": "0",
        }
        if s["labels"]:
            expect["bert.classifier.output_labels"] = s["labels"]
        for key, value in expect.items():
            self.assertEqual(kv[key], value, key)
        types = kv["tokenizer.ggml.token_type"]
        self.assertEqual(types[:104], [3] + [5] * 99 + [2, 3, 3, 3])
        self.assertEqual(set(types[104:]), {1})
        self.assertEqual(json.loads(kv["edgetag.provenance"]), {
            "source": os.path.basename(folder), "weights_file": "model.safetensors", "weights_sha256": sha,
            "converter": "edgetag tools/convert.py 2", "architecture": s["arch"]})

        layout = expected_layout(shape)
        self.assertEqual(list(g.tensors), [name for name, _ in layout])
        src = safetensors_np.load_file(os.path.join(folder, "model.safetensors"))
        prefix = "" if s["arch"] == "BertModel" else "bert."
        for name, hf in layout:
            t = g.tensors[name]
            hf = ("" if hf.startswith("classifier") else prefix) + hf
            a = src[hf]
            self.assertEqual(t.ne, list(reversed(a.shape)), name)
            self.assertEqual(t.offset % 32, 0, name)
            if outtype == "f16" and a.ndim == 2 and name not in ("position_embd.weight", "token_types.weight"):
                self.assertEqual(t.type, ggufio.GGML_TYPE_F16, name)
                np.testing.assert_array_equal(t.data, a.astype(np.float16), name)
            else:
                self.assertEqual(t.type, ggufio.GGML_TYPE_F32, name)
                np.testing.assert_array_equal(t.data, a, name)
        self.assertEqual(g.data_offset % 32, 0)
        return g


class TestFormatIO(unittest.TestCase):
    def test_gguf_round_trip_and_alignment(self):
        w = ggufio.GGUFWriter()
        w.add_string("general.architecture", "bert")
        w.add_u32("a.u32", 7)
        w.add_i32("a.i32", -3)
        w.add_f32("a.f32", 0.5)
        w.add_bool("a.bool", True)
        w.add_array("a.strs", ["x", "", "é"], STR)
        w.add_array("a.i32s", [1, -2], I32)
        w.add_array("a.f32s", [1.5, -2.25], F32)
        w.add_tensor("t1", np.arange(3, dtype=np.float32), ggufio.GGML_TYPE_F32)
        w.add_tensor("t2", np.arange(10, dtype=np.float32).reshape(2, 5), ggufio.GGML_TYPE_F16)
        with self.assertRaises(ggufio.GGUFError):
            w.add_u32("a.u32", 1)
        data = w.to_bytes()
        self.assertEqual(data[:8], b"GGUF\x03\x00\x00\x00")
        g = ggufio.parse_gguf(data)
        self.assertEqual(g.kv["a.u32"], 7)
        self.assertEqual(g.kv["a.i32"], -3)
        self.assertEqual(g.kv["a.f32"], 0.5)
        self.assertIs(g.kv["a.bool"], True)
        self.assertEqual(g.kv["a.strs"], ["x", "", "é"])
        self.assertEqual(g.kv["a.i32s"], [1, -2])
        self.assertEqual(g.kv["a.f32s"], [1.5, -2.25])
        self.assertEqual(g.kv["general.alignment"], 32)  # added by the writer
        self.assertEqual(g.tensors["t2"].ne, [5, 2])
        self.assertEqual(g.tensors["t2"].type, ggufio.GGML_TYPE_F16)
        np.testing.assert_array_equal(g.tensors["t2"].data, np.arange(10).reshape(2, 5))
        for t in g.tensors.values():
            self.assertEqual((g.data_offset + t.offset) % 32, 0)
        self.assertEqual(len(data) % 32, 0)
        with self.assertRaises(ggufio.GGUFError):
            ggufio.parse_gguf(data[:-16])  # 12 bytes of padding + 4 of the last tensor

    def test_safetensors_dtypes(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
            safetensors_np.save_file({"f32": a, "f16": a.astype(np.float16), "i64": np.arange(4)}, path)
            got = safetensors_np.load_file(path)
            np.testing.assert_array_equal(got["f32"], a)
            self.assertEqual(got["f16"].dtype, np.float16)
            self.assertEqual(got["i64"].dtype, np.int64)
            # BF16 is the high half of a float32: write the bits by hand, read back as float32.
            bits = (a.view(np.uint32) >> 16).astype("<u2")
            header = json.dumps({"b": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}).encode()
            with open(path, "wb") as f:
                f.write(len(header).to_bytes(8, "little") + header + bits.tobytes())
            got = safetensors_np.load_file(path)
            self.assertEqual(got["b"].dtype, np.float32)
            np.testing.assert_array_equal(got["b"], a)  # these values are exact in bfloat16


class TestConvert(ConvertCase):
    def test_tiny_sequence_classification(self):
        self.check_model(self.tiny_gguf, self.tiny, "tiny")

    def test_odd_token_classification(self):
        folder = os.path.join(self.tmp, "odd")
        make_reference.write_reference("odd", folder)
        out = os.path.join(self.tmp, "odd.gguf")
        r = run_convert(folder, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_model(out, folder, "odd")
        # The model's own aggregation: --aggregation, else edgetag.json's; the engine reports it.
        with open(os.path.join(folder, "edgetag.json"), "w") as f:
            json.dump({"aggregation": "max"}, f)
        for args, want in (((), "max"), (("--aggregation", "first"), "first")):
            out2 = os.path.join(self.tmp, "odd-%s.gguf" % want)
            r = run_convert(folder, "-o", out2, *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ggufio.read_gguf(out2).kv["edgetag.tagging.aggregation"], want)
            info = subprocess.run([CLI, "inspect", out2], stdout=subprocess.PIPE, universal_newlines=True).stdout
            self.assertIn("aggregation:  %s (the default of extract)" % want, info)

    def test_abstain_label(self):
        """--abstain-label, else edgetag.json's abstain_label, is written as edgetag.escalation.abstain_label (a
        string, one of the labels) beside the other escalation keys; without either there is no such key."""
        self.assertNotIn("edgetag.escalation.abstain_label", ggufio.read_gguf(self.tiny_gguf).kv)
        out = os.path.join(self.tmp, "tiny-abstain.gguf")
        r = run_convert(self.tiny, "-o", out, "--abstain-label", "neutral")
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv_types, dict(COMMON_KEYS, **{"bert.classifier.output_labels": (ARR, STR),
                                                          "edgetag.escalation.abstain_label": (STR, None)}))
        self.assertEqual(g.kv["edgetag.escalation.abstain_label"], "neutral")
        self.assertIn("neutral", g.kv["bert.classifier.output_labels"])
        folder = self.copy_tiny("tiny-abstain-json")
        with open(os.path.join(folder, "edgetag.json"), "w") as f:
            json.dump({"temperature": 1.5, "threshold": 0.5, "abstain_label": "negative"}, f)
        for args, want in (((), "negative"), (("--abstain-label", "positive"), "positive")):
            out2 = os.path.join(self.tmp, "tiny-abstain-%s.gguf" % want)
            r = run_convert(folder, "-o", out2, *args)
            self.assertEqual(r.returncode, 0, r.stderr)
            g = ggufio.read_gguf(out2)
            self.assertEqual(g.kv["edgetag.escalation.abstain_label"], want)
            keys = list(g.kv)
            self.assertEqual(keys.index("edgetag.escalation.abstain_label"),
                             keys.index("edgetag.escalation.threshold") + 1)

    def test_minilm_embedding(self):
        folder = os.path.join(self.tmp, "minilm")
        make_reference.write_reference("minilm", folder)
        out = os.path.join(self.tmp, "minilm.gguf")
        r = run_convert(folder, "-o", out, "--model-version", "2.1", "--name", "mini")
        self.assertEqual(r.returncode, 0, r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv["general.name"], "mini")
        self.assertEqual(g.kv["edgetag.model.version"], "2.1")
        self.assertEqual(g.kv["edgetag.task"], "embedding")
        self.assertNotIn("bert.classifier.output_labels", g.kv)
        self.assertEqual(g.tensors["token_embd.weight"].ne, [384, 30522])
        self.assertEqual(g.tensors["blk.5.ffn_down.weight"].ne, [1536, 384])
        self.assertEqual(list(g.tensors)[-2:], ["cls.weight", "cls.bias"])

    def test_f16(self):
        out = os.path.join(self.tmp, "tiny16.gguf")
        r = run_convert(self.tiny, "-o", out, "--outtype", "f16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_model(out, self.tiny, "tiny", outtype="f16")

    def test_deterministic(self):
        out = os.path.join(self.tmp, "tiny-again.gguf")
        self.assertEqual(run_convert(self.tiny, "-o", out).returncode, 0)
        with open(out, "rb") as a, open(self.tiny_gguf, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_reference_is_deterministic(self):
        folder = os.path.join(self.tmp, "tiny-again")
        make_reference.write_reference("tiny", folder)
        for name in sorted(os.listdir(self.tiny)):
            with open(os.path.join(folder, name), "rb") as a, open(os.path.join(self.tiny, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_tokenizer_json(self):
        folder = self.copy_tiny("tiny-tj")
        vocab = make_reference.make_vocab(1024)
        os.remove(os.path.join(folder, "vocab.txt"))
        os.remove(os.path.join(folder, "tokenizer_config.json"))
        tj = {"version": "1.0",
              "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                             "strip_accents": None, "lowercase": True},
              "pre_tokenizer": {"type": "BertPreTokenizer"},
              "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                        "max_input_chars_per_word": 100,
                        # listed in reverse to check that ids, not order, decide
                        "vocab": {t: i for i, t in reversed(list(enumerate(vocab)))}}}
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f)
        out = os.path.join(self.tmp, "tiny-tj.gguf")
        r = run_convert(folder, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        a, b = ggufio.read_gguf(out).kv, ggufio.read_gguf(self.tiny_gguf).kv
        for key in a:
            if key.startswith("tokenizer.") or key.startswith("edgetag.tokenizer."):
                self.assertEqual(a[key], b[key], key)
        # The normalizer's flags are taken; tokenizer_config.json, when present, overrides them.
        tj["normalizer"].update(lowercase=False, strip_accents=False, handle_chinese_chars=False)
        tj["model"]["max_input_chars_per_word"] = 50
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f)
        self.assertEqual(run_convert(folder, "-o", out).returncode, 0)
        kv = ggufio.read_gguf(out).kv
        flags = lambda: [kv[k] for k in ("tokenizer.ggml.normalizer.lowercase", "tokenizer.ggml.normalizer.strip_accents",
                                         "edgetag.tokenizer.tokenize_chinese_chars",
                                         "edgetag.tokenizer.max_input_chars_per_word")]
        self.assertEqual(flags(), [False, False, False, 50])
        with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"do_lower_case": False, "strip_accents": True}, f)
        self.assertEqual(run_convert(folder, "-o", out).returncode, 0)
        kv = ggufio.read_gguf(out).kv
        self.assertEqual(flags(), [False, True, False, 50])  # cased, accents stripped: both keys say it

    def test_sharded_safetensors_and_no_prefix_gamma_beta(self):
        folder = self.copy_tiny("tiny-sharded")
        src = safetensors_np.load_file(os.path.join(folder, "model.safetensors"))
        os.remove(os.path.join(folder, "model.safetensors"))
        # Old-style names: no "bert." prefix, LayerNorm gamma/beta; split over two shards.
        renamed = {}
        for name, arr in src.items():
            name = name[len("bert."):] if name.startswith("bert.") else name
            name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
            renamed[name] = arr
        names = sorted(renamed)
        shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
        weight_map = {}
        for fname, part in shards.items():
            safetensors_np.save_file({n: renamed[n] for n in part}, os.path.join(folder, fname))
            weight_map.update({n: fname for n in part})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
        self.assert_converts_like_tiny(folder, "model.safetensors.index.json")

    def assert_converts_like_tiny(self, folder, weights_file):
        """folder (tiny's weights in another form) converts to tiny's tensors, read from weights_file."""
        out = os.path.join(self.tmp, os.path.basename(folder) + ".gguf")
        r = run_convert(folder, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        a, b = ggufio.read_gguf(out), ggufio.read_gguf(self.tiny_gguf)
        self.assertEqual(list(a.tensors), list(b.tensors))
        for name in a.tensors:
            self.assertEqual(a.tensors[name].ne, b.tensors[name].ne)
            np.testing.assert_array_equal(a.tensors[name].data, b.tensors[name].data, name)
        self.assertEqual(json.loads(a.kv["edgetag.provenance"])["weights_file"], weights_file)

    def test_ignored_heads_and_position_ids(self):
        folder = self.copy_tiny("tiny-mlm")
        path = os.path.join(folder, "model.safetensors")
        t = dict(safetensors_np.load_file(path))
        del t["classifier.weight"], t["classifier.bias"]
        t["bert.embeddings.position_ids"] = np.arange(512, dtype=np.int64)[None]
        t["cls.predictions.bias"] = np.zeros(1024, np.float32)
        t["cls.seq_relationship.weight"] = np.zeros((2, 64), np.float32)
        write_safetensors_tensors(folder, t)
        cfg_path = os.path.join(folder, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["architectures"] = ["BertForPreTraining"]
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        out = os.path.join(self.tmp, "tiny-mlm.gguf")
        r = run_convert(folder, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cls.predictions.bias", r.stderr)
        g = ggufio.read_gguf(out)
        self.assertEqual(g.kv["edgetag.task"], "embedding")
        self.assertEqual(g.kv["bert.pooling_type"], 1)
        self.assertNotIn("cls.output.weight", g.tensors)
        self.assertIn("cls.weight", g.tensors)

    @unittest.skipUnless(HAVE_TORCH, "torch is not installed: pytorch_model.bin input not tested")
    def test_pytorch_model_bin(self):
        import torch
        folder = self.copy_tiny("tiny-bin")
        path = os.path.join(folder, "model.safetensors")
        state = {k: torch.from_numpy(np.array(v)) for k, v in safetensors_np.load_file(path).items()}
        os.remove(path)
        torch.save(state, os.path.join(folder, "pytorch_model.bin"))
        self.assert_converts_like_tiny(folder, "pytorch_model.bin")

    def test_pytorch_model_bin_without_torch(self):
        folder = self.copy_tiny("tiny-bin-notorch")
        os.remove(os.path.join(folder, "model.safetensors"))
        with open(os.path.join(folder, "pytorch_model.bin"), "wb") as f:
            f.write(b"not read: torch is blocked")
        # sys.modules["torch"] = None makes `import torch` raise ImportError, as on a machine without it.
        code = ("import runpy, sys; sys.modules['torch'] = None; "
                "runpy.run_module('tools.convert', run_name='__main__', alter_sys=True)")
        r = subprocess.run([sys.executable, "-c", code, folder, "-o", os.path.join(self.tmp, "x.gguf")], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("convert.py: error: pytorch_model.bin needs PyTorch", r.stderr)


class TestConvertErrors(ConvertCase):
    def assert_fails(self, folder, *needles, args=()):
        out = os.path.join(self.tmp, "bad.gguf")
        if os.path.exists(out):
            os.remove(out)
        r = run_convert(folder, "-o", out, *args)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        last = r.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("convert.py: error: "), r.stderr)
        for needle in needles:
            self.assertIn(needle, last)
        self.assertFalse(os.path.exists(out), "no output file on failure")
        return last

    def edit_config(self, folder, **changes):
        path = os.path.join(folder, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg.update(changes)
        with open(path, "w") as f:
            json.dump(cfg, f)

    def edit_tensors(self, folder, fn):
        path = os.path.join(folder, "model.safetensors")
        t = dict(safetensors_np.load_file(path))
        fn(t)
        write_safetensors_tensors(folder, t)

    def test_aggregation_needs_a_token_classifier(self):
        self.assert_fails(self.tiny, "only applies to token classifiers", args=("--aggregation", "first"))
        folder = self.copy_tiny("e-aggregation")
        with open(os.path.join(folder, "edgetag.json"), "w") as f:
            json.dump({"aggregation": "longest"}, f)
        self.assert_fails(folder, "aggregation must be one of none, simple, first, average, max")

    def test_abstain_label_must_be_a_label(self):
        self.assert_fails(self.tiny, "--abstain-label 'oos' is not one of the model's labels (negative, neutral, "
                          "positive)", args=("--abstain-label", "oos"))
        self.assert_fails(self.tiny, "only applies to classifiers", args=("--task", "embedding",
                                                                          "--abstain-label", "neutral"))
        folder = self.copy_tiny("e-abstain")
        for value, needle in (("oos", "edgetag.json abstain_label 'oos' is not one of the model's labels"),
                              ("", "edgetag.json abstain_label must be a non-empty string"),
                              (["neutral"], "edgetag.json abstain_label must be a non-empty string")):
            with open(os.path.join(folder, "edgetag.json"), "w") as f:
                json.dump({"abstain_label": value}, f)
            self.assert_fails(folder, needle)

    def test_missing_config(self):
        folder = self.copy_tiny("e-noconfig")
        os.remove(os.path.join(folder, "config.json"))
        self.assert_fails(folder, "config.json not found")

    def test_not_a_directory(self):
        self.assert_fails(os.path.join(self.tmp, "does-not-exist"), "not a directory")

    def test_wrong_tensor_shape(self):
        folder = self.copy_tiny("e-shape")
        name = "bert.encoder.layer.1.intermediate.dense.weight"
        self.edit_tensors(folder, lambda t: t.update({name: np.zeros((255, 64), np.float32)}))
        self.assert_fails(folder, name, "[255, 64]", "[256, 64]", "intermediate_size")

    def test_missing_tensor(self):
        folder = self.copy_tiny("e-missing")
        self.edit_tensors(folder, lambda t: t.pop("bert.encoder.layer.0.attention.self.key.bias"))
        self.assert_fails(folder, "missing tensors", "encoder.layer.0.attention.self.key.bias")

    def test_missing_pooler_for_sequence_classification(self):
        folder = self.copy_tiny("e-pooler")
        self.edit_tensors(folder, lambda t: (t.pop("bert.pooler.dense.weight"), t.pop("bert.pooler.dense.bias")))
        self.assert_fails(folder, "missing tensors", "pooler.dense.weight", "sequence_classification")

    def test_unknown_tensor(self):
        folder = self.copy_tiny("e-unknown")
        self.edit_tensors(folder, lambda t: t.update({"bert.encoder.layer.0.adapter.weight": np.zeros(3, np.float32)}))
        self.assert_fails(folder, "unknown tensors", "bert.encoder.layer.0.adapter.weight")

    def test_label_count_mismatch(self):
        folder = self.copy_tiny("e-labels")
        self.edit_config(folder, id2label={"0": "no", "1": "yes"}, label2id={"no": 0, "yes": 1})
        self.assert_fails(folder, "id2label has 2 labels", "classifier has 3 rows")

    def test_label_ids_not_dense(self):
        folder = self.copy_tiny("e-label-ids")
        self.edit_config(folder, id2label={"0": "a", "1": "b", "3": "c"})
        self.assert_fails(folder, "id2label keys must be exactly 0..2")

    def test_relu(self):
        folder = self.copy_tiny("e-relu")
        self.edit_config(folder, hidden_act="relu")
        self.assert_fails(folder, "hidden_act", "relu", "gelu")

    def test_vocab_size_mismatch(self):
        folder = self.copy_tiny("e-vocab")
        with open(os.path.join(folder, "vocab.txt"), "a", encoding="utf-8") as f:
            f.write("extra\n")
        self.assert_fails(folder, "vocab.txt has 1025 tokens", "vocab_size is 1024")

    def test_heads_do_not_divide(self):
        folder = self.copy_tiny("e-heads")
        self.edit_config(folder, num_attention_heads=5)
        self.assert_fails(folder, "num_attention_heads=5", "hidden_size=64")

    def test_unsupported_architecture(self):
        folder = self.copy_tiny("e-arch")
        self.edit_config(folder, architectures=["BertForQuestionAnswering"])
        self.assert_fails(folder, "BertForQuestionAnswering")

    def test_no_weights(self):
        folder = self.copy_tiny("e-noweights")
        os.remove(os.path.join(folder, "model.safetensors"))
        self.assert_fails(folder, "no weights")

    def test_bad_argument(self):
        self.assert_fails(self.tiny, "--outtype", args=("--outtype", "q4"))


if __name__ == "__main__":
    unittest.main()
