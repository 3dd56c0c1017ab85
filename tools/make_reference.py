"""make_reference — write a random-weight Hugging Face BERT checkpoint folder, with numpy only.

Usage:
    /usr/bin/python3 tools/make_reference.py --shape tiny -o build/ref/tiny [--seed N] [--vocab-size N]
    /usr/bin/python3 tools/make_reference.py --shape minilm -o build/ref/minilm-bert --vocab build/tok/uncased
    /usr/bin/python3 tools/make_reference.py --list

The folder holds what Hugging Face's save_pretrained writes for a BERT model and tokenizer:
config.json, model.safetensors, vocab.txt and tokenizer_config.json. It is the input of tools/convert.py
and of the PyTorch oracle tools/reference_bert.py, which tools/make_golden.py runs to make tests/fixtures/golden.
Same arguments -> byte-identical folder (np.random.RandomState's stream is frozen across numpy versions).

Shapes (SHAPES below): tiny (sequence classification), minilm (BertModel with pooler), odd (token
classification, head size 24, eps 1e-5), base (bert-base sized BertModel, for benchmarks only).

Weights: one np.random.RandomState(seed), drawn in this fixed order, each as float64 normals scaled and
then rounded to float32:
    embeddings.word_embeddings, position_embeddings, token_type_embeddings   N(0, 1)
    embeddings.LayerNorm.weight, .bias                                       1 + N(0, 0.1), N(0, 0.1)
    for each layer 0..N-1:
        attention.self.query/key/value (.weight, .bias), attention.output.dense (.weight, .bias),
        attention.output.LayerNorm (.weight, .bias), intermediate.dense (.weight, .bias),
        output.dense (.weight, .bias), output.LayerNorm (.weight, .bias)
    pooler.dense (.weight, .bias)     when the architecture has a pooler
    classifier (.weight, .bias)       for BertFor*Classification
Linear weights (out, in) are N(0, gain/sqrt(in)) with gain 1 (unit-variance inputs give unit-variance
outputs: GELU inputs, the pooler's tanh and the logits stay O(1)), except two, tuned so that the model is
not degenerate (checked with make_golden's figures):
    query and key: gain QK_GAIN = 2, so attention scores have std ~4 and attention is peaked, as in
        trained models; with gain 1 it is nearly uniform and every token gets the same average;
    attention.output.dense: gain ATTN_OUT_GAIN = 0.5, so the attention branch adds a quarter of the
        residual's variance; with gain 1 the near-constant attention output swamps the residual stream
        and after 6 layers all tokens' hidden states point the same way (mean cosine 0.97 -> 0.72).
Biases N(0, 0.1); LayerNorm weight 1 + N(0, 0.1) and bias N(0, 0.1).

Vocabulary (deterministic, bert-base-uncased's special ids): [PAD]=0, [unused0..98]=1..99, [UNK]=100,
[CLS]=101, [SEP]=102, [MASK]=103, then the printable ASCII characters other than upper-case letters, "##"
continuations of digits and letters, a few hundred common English words, and "tok00123"-style fillers up
to the vocabulary size.

--vocab PATH uses a real vocabulary instead: PATH is a vocab.txt, or a folder holding vocab.txt and/or
tokenizer.json (+ tokenizer_config.json), such as tools/vocab_from_npm.py and tools/build_vocab.py write.
vocab_size is then the vocabulary's length (--vocab-size, if given, must agree), config.json's
pad_token_id is its [PAD] id, and the files are copied into the output folder unchanged, so
tools/convert.py puts that tokenizer into the GGUF file. A missing vocab.txt is written from tokenizer.json;
a missing tokenizer_config.json is written from tokenizer.json's normalizer flags (so that the default one,
do_lower_case true, cannot override a cased tokenizer.json), or is the default one for a bare vocab.txt.
Without --vocab the output is byte-identical to what it always was (tests/fixtures/golden depends on it).
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402
import tokenizer_json  # noqa: E402

# name -> hyper-parameters. "seed" is the default seed of the weights.
SHAPES = {
    "tiny": dict(layers=2, hidden=64, heads=4, ffn=256, vocab=1024, positions=512, types=2, eps=1e-12,
                 arch="BertForSequenceClassification", labels=["negative", "neutral", "positive"],
                 seed=1),
    "minilm": dict(layers=6, hidden=384, heads=12, ffn=1536, vocab=30522, positions=512, types=2,
                   eps=1e-12, arch="BertModel", labels=None, seed=2),
    "odd": dict(layers=3, hidden=168, heads=7, ffn=1000, vocab=2000, positions=512, types=2, eps=1e-5,
                arch="BertForTokenClassification", labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
                seed=3),
    "base": dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=30522, positions=512, types=2,
                 eps=1e-12, arch="BertModel", labels=None, seed=4),
}

# Weight-scale gains of the attention (see the module docstring).
QK_GAIN = 2.0
ATTN_OUT_GAIN = 0.5

# Tasks by architecture, as tools/convert.py maps them.
TASKS = {
    "BertModel": "embedding",
    "BertForSequenceClassification": "sequence_classification",
    "BertForTokenClassification": "token_classification",
}

COMMON_WORDS = """
the of and to in is was he for it with as his on be at by i this had not are but from or have an they
which one you were her all she there would their we him been has when who will more no if out so said
what up its about into than them can only other new some could time these two may then do first any my
now such like our over man me even most made after also did many before must through back years where
much your way well down should because each just those people mr how too little state good very make
world still own see men work long get here between both life being under never day same another know
while last might us great old year off come since against go came right used take three states himself
few house use during without again place american around however home small found mrs thought went say
part once general high upon school every don does got united left number course war until always away
something fact though water less public put think almost hand enough far took head yet government system
better set told nothing night end why called didn eyes find going look asked later knew point next city
give group toward young let room president side social given present several order national possible
rather second face per among form important often things looked early white john case become large big
need four within felt along children saw best church ever least power development light thing seemed
family interest want members mind country area others done turned although open god service problem
certain kind different thus began door help means sense whole matter perhaps itself york times law human
line above name example action company hands local show whether five history gave today either act
feet across taken past quite anything seen having death experience body word half really week car field
money words already information tell together college shall sometimes boy free am book hello world
""".split()


def make_vocab(size):
    """The deterministic vocabulary of `size` tokens (size >= 104)."""
    if size < 104:
        raise ValueError("vocab size must be at least 104 (the special tokens), got %d" % size)
    tokens = ["[PAD]"] + ["[unused%d]" % i for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(33, 127) if not "A" <= chr(c) <= "Z"]
    tokens += chars
    tokens += ["##" + c for c in chars if c.isalnum()]
    seen = set(tokens)
    for w in COMMON_WORDS:
        if w not in seen:
            seen.add(w)
            tokens.append(w)
    n = len(tokens)
    tokens += ["tok%05d" % i for i in range(n, max(size, n))]
    return tokens[:size]


def make_weights(shape, seed, vocab_size):
    """HF-named float32 tensors ({name: array}) for a shape, drawn in the documented order."""
    s = SHAPES[shape]
    rs = np.random.RandomState(seed)
    H, F = s["hidden"], s["ffn"]
    prefix = "" if s["arch"] == "BertModel" else "bert."
    w = {}

    def normal(name, shape_, std, mean=0.0):
        w[name] = (mean + rs.standard_normal(shape_) * std).astype(np.float32)

    def linear(name, n_out, n_in, gain=1.0):
        normal(name + ".weight", (n_out, n_in), gain / np.sqrt(n_in))
        normal(name + ".bias", (n_out,), 0.1)

    def layer_norm(name):
        normal(name + ".weight", (H,), 0.1, mean=1.0)
        normal(name + ".bias", (H,), 0.1)

    e = prefix + "embeddings."
    normal(e + "word_embeddings.weight", (vocab_size, H), 1.0)
    normal(e + "position_embeddings.weight", (s["positions"], H), 1.0)
    normal(e + "token_type_embeddings.weight", (s["types"], H), 1.0)
    layer_norm(e + "LayerNorm")
    for n in range(s["layers"]):
        p = prefix + "encoder.layer.%d." % n
        linear(p + "attention.self.query", H, H, QK_GAIN)
        linear(p + "attention.self.key", H, H, QK_GAIN)
        linear(p + "attention.self.value", H, H)
        linear(p + "attention.output.dense", H, H, ATTN_OUT_GAIN)
        layer_norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", F, H)
        linear(p + "output.dense", H, F)
        layer_norm(p + "output.LayerNorm")
    if s["arch"] in ("BertModel", "BertForSequenceClassification"):
        linear(prefix + "pooler.dense", H, H)
    if s["labels"]:
        linear("classifier", len(s["labels"]), H)
    return w


def load_vocab_source(path):
    """(tokens, {file name in the output folder: source path}) for --vocab PATH (see the module docstring).
    Raises ValueError for a missing, unreadable or inconsistent vocabulary."""
    def from_vocab_txt(p):
        try:
            return tokenizer_json.read_vocab(p)
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError("cannot read %s: %s" % (p, e))

    if os.path.isfile(path):
        return from_vocab_txt(path), {"vocab.txt": path}
    if not os.path.isdir(path):
        raise ValueError("--vocab %s: no such file or folder" % path)
    files = {n: os.path.join(path, n) for n in ("vocab.txt", "tokenizer.json", "tokenizer_config.json")
             if os.path.isfile(os.path.join(path, n))}
    tokens = None
    if "tokenizer.json" in files:
        try:
            with open(files["tokenizer.json"], "r", encoding="utf-8") as f:
                vocab = json.load(f)["model"]["vocab"]
            tokens = [None] * len(vocab)
            for t, i in vocab.items():
                tokens[i] = t
        except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
            raise ValueError("cannot read the vocabulary of %s: %s" % (files["tokenizer.json"], e))
        if None in tokens:
            raise ValueError("%s: model.vocab ids are not 0..%d" % (files["tokenizer.json"], len(tokens) - 1))
        tokenizer_json.check_vocab(tokens, files["tokenizer.json"])
        if "vocab.txt" in files and from_vocab_txt(files["vocab.txt"]) != tokens:
            raise ValueError("%s and %s hold different vocabularies" % (files["vocab.txt"], files["tokenizer.json"]))
    elif "vocab.txt" in files:
        tokens = from_vocab_txt(files["vocab.txt"])
    else:
        raise ValueError("--vocab %s: the folder has neither vocab.txt nor tokenizer.json" % path)
    return tokens, files


def make_config(shape, vocab_size, pad_token_id=0):
    s = SHAPES[shape]
    config = {
        "architectures": [s["arch"]],
        "model_type": "bert",
        "hidden_size": s["hidden"],
        "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"],
        "intermediate_size": s["ffn"],
        "hidden_act": "gelu",
        "max_position_embeddings": s["positions"],
        "type_vocab_size": s["types"],
        "vocab_size": vocab_size,
        "layer_norm_eps": s["eps"],
        "pad_token_id": pad_token_id,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
    }
    if s["labels"]:
        config["id2label"] = {str(i): label for i, label in enumerate(s["labels"])}
        config["label2id"] = {label: i for i, label in enumerate(s["labels"])}
    return config


def write_reference(shape, out_dir, seed=None, vocab_size=None, vocab=None):
    """Writes the folder; returns (seed, vocab_size) actually used. vocab: None (the generated vocabulary)
    or a --vocab PATH (see the module docstring)."""
    if shape not in SHAPES:
        raise ValueError("unknown shape %r (known: %s)" % (shape, ", ".join(SHAPES)))
    seed = SHAPES[shape]["seed"] if seed is None else seed
    files, pad_id = {}, 0
    if vocab is not None:
        tokens, files = load_vocab_source(vocab)
        if vocab_size is not None and vocab_size != len(tokens):
            raise ValueError("--vocab-size %d disagrees with --vocab %s (%d tokens)" % (vocab_size, vocab, len(tokens)))
        vocab_size = len(tokens)
        pad_id = tokens.index("[PAD]") if "[PAD]" in tokens else 0
    else:
        vocab_size = SHAPES[shape]["vocab"] if vocab_size is None else vocab_size
        tokens = make_vocab(vocab_size)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(make_config(shape, vocab_size, pad_id), f, indent=2)
        f.write("\n")
    for name, src in sorted(files.items()):
        shutil.copyfile(src, os.path.join(out_dir, name))
    if "vocab.txt" not in files:
        with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(t + "\n" for t in tokens))
    if "tokenizer_config.json" in files:
        pass  # copied above
    elif "tokenizer.json" in files:  # the flags of its normalizer, so that they cannot be overridden
        with open(files["tokenizer.json"], "r", encoding="utf-8") as f:
            norm = json.load(f).get("normalizer") or {}
        config = tokenizer_json.build_tokenizer_config(tokens, norm.get("lowercase", True), norm.get("strip_accents"),
                                                       norm.get("handle_chinese_chars", True))
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(tokenizer_json.dumps_tokenizer_config(config))
    else:
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8", newline="\n") as f:
            json.dump({"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer"},
                      f, indent=2)
            f.write("\n")
    safetensors_np.save_file(make_weights(shape, seed, vocab_size),
                             os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    return seed, vocab_size


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write a random-weight Hugging Face BERT checkpoint folder.")
    ap.add_argument("--shape", choices=sorted(SHAPES), help="model shape")
    ap.add_argument("-o", "--out", help="output folder (created)")
    ap.add_argument("--seed", type=int, help="weights seed (default: the shape's own)")
    ap.add_argument("--vocab-size", type=int, help="vocabulary size (default: the shape's own)")
    ap.add_argument("--vocab", help="a vocab.txt, or a folder with vocab.txt / tokenizer.json / "
                                    "tokenizer_config.json, to use instead of the generated vocabulary")
    ap.add_argument("--list", action="store_true", help="list the shapes and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name, s in SHAPES.items():
            print("%-7s %s" % (name, {k: v for k, v in s.items()}))
        return 0
    if not args.shape or not args.out:
        ap.error("--shape and -o are required")
    if args.vocab_size is not None and args.vocab_size < 104:
        ap.error("--vocab-size must be at least 104")
    try:
        seed, vocab_size = write_reference(args.shape, args.out, args.seed, args.vocab_size, args.vocab)
    except ValueError as e:
        print("make_reference.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s (shape %s, seed %d, vocab %d%s)" % (args.out, args.shape, seed, vocab_size,
                                                        " from " + args.vocab if args.vocab else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
