"""datasets — read the project's datasets (../shared/data, see its README.md) as texts or labelled examples.
Standard library only. The files are read in place, never copied.

Usage:
    from tools.data import datasets
    for dataset, split, text in datasets.iter_texts("../shared/data", splits=("train", "dev")):
        ...
    for ex in datasets.iter_examples("../shared/data", "wnut17", "train"):
        ex["text"], ex["tokens"], ex["tags"]

    /usr/bin/python3 -m tools.data.datasets [--data ../shared/data]     # counts per dataset and split

Datasets (names as the folders) and splits. "train" and "dev" everywhere; "val" is accepted for "dev".
The test splits are held out of the data folder on purpose and are not readable here.
    clinc150            clinc150/data_full.json: train = "train" + "oos_train", dev = "val" + "oos_val"
                        (the out-of-scope utterances carry the intent "oos"). Example: text, intent.
    wnut17              CoNLL files wnut17train.conll / emerging.dev.conll. Example: text, tokens, tags.
    btc                 CoNLL files btc.train / btc.dev (tweets). Example: text, tokens, tags.
    maintie             BIO files maintie_gold_{train,dev}.bio (token, top-level tag, level-2 tag).
                        Example: text, tokens, tags, tags_l2.
    presidio_synth_pii  synth_dataset_v2.json (1,500 synthetic texts with PII spans), which has no split:
                        this module splits it by template, like maintie's derive_bio.py splits by record:
                        template_id % 10 == 8 -> dev, == 9 -> test (never returned), otherwise train, so no
                        template is shared between splits. Example: text, spans (entity_type, start, end,
                        value; character offsets into text), template_id.

CoNLL and BIO files: one token per line, the columns separated by a tab (or, failing that, whitespace), the
token in the first column with surrounding whitespace removed (a row whose token is then empty is skipped:
btc.dev has three, tagged O); a blank or whitespace-only line ends a sentence, a sentence left without
tokens is skipped (one in btc.dev), and a final sentence without a trailing blank line counts. Texts are
the tokens joined by single spaces, so token i starts at character sum(len(tokens[:i])) + i
(token_offsets(tokens) gives the spans).
"""

import argparse
import json
import os
import sys

from tools import ROOT

DATASETS = ("clinc150", "wnut17", "btc", "maintie", "presidio_synth_pii")
SPLITS = ("train", "dev")
SPLIT_ALIASES = {"val": "dev", "validation": "dev"}
# ../shared/data from the repository root.
DEFAULT_DATA_DIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))

CONLL_FILES = {
    "wnut17": {"train": "wnut17train.conll", "dev": "emerging.dev.conll"},
    "btc": {"train": "btc.train", "dev": "btc.dev"},
    "maintie": {"train": "maintie_gold_train.bio", "dev": "maintie_gold_dev.bio"},
}
CLINC_KEYS = {"train": ("train", "oos_train"), "dev": ("val", "oos_val")}
PRESIDIO_DEV, PRESIDIO_TEST = 8, 9  # template_id % 10


class DataError(Exception):
    """A missing data folder or file, or a file not in the expected format."""


def canonical_split(split):
    """"train" or "dev" ("val" is an alias); raises ValueError for anything else (the test splits too)."""
    s = SPLIT_ALIASES.get(split, split)
    if s not in SPLITS:
        raise ValueError("unknown split %r (known: train, dev; the test splits are held out)" % (split,))
    return s


def _path(data_dir, dataset, name):
    if not os.path.isdir(data_dir):
        raise DataError("data folder %s not found (the datasets live in ../shared/data; see its README.md)"
                        % data_dir)
    path = os.path.join(data_dir, dataset, name)
    if not os.path.isfile(path):
        raise DataError("%s not found" % path)
    return path


def read_conll(path):
    """Sentences of a CoNLL-style file: a list of rows (lists of column strings) per sentence."""
    sentences, rows = [], []
    with open(path, "r", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if line.strip() == "":
                if rows:
                    sentences.append(rows)
                    rows = []
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            cols = [c.strip() for c in cols]
            if len(cols) < 2 or cols[-1] == "":
                raise DataError("%s:%d: expected 'token<TAB>tag', got %r" % (path, n, line))
            if cols[0] != "":  # btc.dev has 3 rows with an empty or blank token (tag O): nothing to read
                rows.append(cols)
    if rows:
        sentences.append(rows)
    return sentences


def token_offsets(tokens):
    """Character offsets (start, end) of each token in " ".join(tokens)."""
    out, pos = [], 0
    for t in tokens:
        out.append((pos, pos + len(t)))
        pos += len(t) + 1
    return out


def _conll_examples(data_dir, dataset, split):
    for rows in read_conll(_path(data_dir, dataset, CONLL_FILES[dataset][split])):
        tokens = [r[0] for r in rows]
        ex = {"text": " ".join(tokens), "tokens": tokens, "tags": [r[1] for r in rows]}
        if dataset == "maintie":
            ex["tags_l2"] = [r[2] if len(r) > 2 else r[1] for r in rows]
        yield ex


def _load_json(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except ValueError as e:
        raise DataError("%s: not valid JSON: %s" % (path, e))


def _clinc_examples(data_dir, split):
    path = _path(data_dir, "clinc150", "data_full.json")
    data = _load_json(path)
    for key in CLINC_KEYS[split]:
        if key not in data:
            raise DataError("%s has no %r list" % (path, key))
        for item in data[key]:
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
                raise DataError("%s: %s entry %r is not [text, intent]" % (path, key, item))
            yield {"text": item[0], "intent": item[1]}


def clinc_oos_plus_train(data_dir):
    """The out-of-scope train requests of CLINC150's data_oos_plus.json ("OOS+": 250 instead of 100; its
    in-scope train and its val lists are data_full.json's), in file order."""
    path = _path(data_dir, "clinc150", "data_oos_plus.json")
    data = _load_json(path)
    out = []
    for item in data.get("oos_train", []):
        if not (isinstance(item, list) and len(item) == 2 and item[1] == "oos"):
            raise DataError("%s: oos_train entry %r is not [text, \"oos\"]" % (path, item))
        out.append(item[0])
    return out


def presidio_split(template_id):
    """"train", "dev" or "test" for a Presidio template id (see the module docstring)."""
    r = template_id % 10
    return "dev" if r == PRESIDIO_DEV else "test" if r == PRESIDIO_TEST else "train"


def _presidio_examples(data_dir, split):
    path = _path(data_dir, "presidio_synth_pii", "synth_dataset_v2.json")
    for i, rec in enumerate(_load_json(path)):
        try:
            text, template_id, spans = rec["full_text"], rec["template_id"], rec["spans"]
        except (KeyError, TypeError):
            raise DataError("%s: record %d lacks full_text, template_id or spans" % (path, i))
        if presidio_split(template_id) != split:
            continue
        spans = sorted(({"entity_type": s["entity_type"], "start": s["start_position"], "end": s["end_position"],
                         "value": s["entity_value"]} for s in spans), key=lambda s: (s["start"], s["end"]))
        yield {"text": text, "spans": spans, "template_id": template_id}


def iter_examples(data_dir, dataset, split):
    """The examples (dicts with at least "text") of one dataset split, in file order."""
    split = canonical_split(split)
    if dataset == "clinc150":
        return _clinc_examples(data_dir, split)
    if dataset in CONLL_FILES:
        return _conll_examples(data_dir, dataset, split)
    if dataset == "presidio_synth_pii":
        return _presidio_examples(data_dir, split)
    raise ValueError("unknown dataset %r (known: %s)" % (dataset, ", ".join(DATASETS)))


def iter_texts(data_dir, splits=("train",), datasets=None):
    """(dataset, split, text) for every example of the given splits of the given datasets (default: all),
    dataset by dataset in DATASETS order, then split by split, then in file order. Checks its arguments at
    the call: raises DataError when data_dir is missing (and, while iterating, when a file is), ValueError
    for an unknown dataset or split."""
    if not os.path.isdir(data_dir):
        raise DataError("data folder %s not found (the datasets live in ../shared/data; see its README.md)"
                        % data_dir)
    names = DATASETS if datasets is None else tuple(datasets)
    for d in names:
        if d not in DATASETS:
            raise ValueError("unknown dataset %r (known: %s)" % (d, ", ".join(DATASETS)))
    splits = [canonical_split(s) for s in ([splits] if isinstance(splits, str) else splits)]
    return ((d, s, ex["text"]) for d in names for s in splits for ex in iter_examples(data_dir, d, s))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="datasets.py", description="Count the texts of each dataset split.")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR, help="data folder (default ../shared/data)")
    args = ap.parse_args(argv)
    try:
        counts = {}
        for d, s, text in iter_texts(args.data, SPLITS):
            n, chars = counts.get((d, s), (0, 0))
            counts[(d, s)] = (n + 1, chars + len(text))
    except DataError as e:
        print("datasets.py: error: %s" % e, file=sys.stderr)
        return 1
    for (d, s), (n, chars) in counts.items():
        print("%-20s %-5s %6d texts %9d chars" % (d, s, n, chars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
