"""Stage vocab: the cased WordPiece vocabulary shared by every student model (OUT/vocab/), learned by
tools/tokenizer/build_vocab.py from all datasets' train splits (tiny preset: the first texts of each)."""

import os
import time

from tools.data import datasets
from tools.formats import tokenizer_json
from tools.tokenizer import build_vocab
from tools.train.data import read_vocab
from tools.train.runtime import log, write_json
from tools.train.settings import PRESETS, TRAIN_CMD, preset_flag


def cmd_vocab(args):
    out = os.path.join(args.out, "vocab")
    p = PRESETS[args.preset]
    t0 = time.time()
    if p["limit"] is None:
        build_vocab.build(args.data, out, size=p["vocab_size"], cased=True, log=log)
    else:  # tiny: the first `limit` train texts of each dataset
        texts = []
        for d in datasets.DATASETS:
            texts += [t for _, _, t in datasets.iter_texts(args.data, ("train",), (d,))][:p["limit"]]
        counts = build_vocab.count_words(texts, build_vocab.make_normalizer(True))
        tokens = build_vocab.train_wordpiece(counts, p["vocab_size"])
        os.makedirs(out, exist_ok=True)
        tokenizer_json.write_vocab_txt(tokens, os.path.join(out, "vocab.txt"))
        tokenizer_json.write_tokenizer_files(tokens, out, lowercase=False, strip_accents=False)
    info = {"size": len(read_vocab(out)), "cased": True, "preset": args.preset, "seconds": time.time() - t0,
            "command": TRAIN_CMD + " vocab" + preset_flag(args)}
    write_json(os.path.join(out, "vocab.json"), info)
    log("vocab: %d tokens in %s (%.1f s)" % (info["size"], out, info["seconds"]))
