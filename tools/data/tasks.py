"""tasks — the training tasks of edgetag's student models, as examples read from the datasets (../shared/data,
through tools/data/datasets.py; nothing is copied). Standard library only.

    from tools.data import tasks
    t = tasks.get("maint-ner")
    t.kind        # "sequence_classification" or "token_classification"
    t.labels      # label names in id order (fixed; see below)
    t.types       # NER entity types in order (token classification only)
    train = t.examples("train", data_dir)     # [(text, label)]  or  [(text, [(start, end, type), ...])]
    dev = t.examples("dev", data_dir)

    /usr/bin/python3 -m tools.data.tasks [--data ../shared/data]     # counts per task and split

Examples are in file order. NER spans are [start, end) character (code point) offsets into the text, sorted,
never overlapping.

Tasks:
    intent-clinc   sequence classification, CLINC150 data_full.json: train = "train" + "oos_train" + the
                   out-of-scope train requests of data_oos_plus.json that data_full.json lacks (151: the
                   "OOS+" variant's larger out-of-scope train set; its in-scope train and both dev lists
                   are data_full.json's), dev =
                   "val" + "oos_val". Labels: the 150 intent names in sorted (Python string) order, then
                   "oos" last (151 labels). Example: (text, intent name).
    maint-ner      token classification, MaintIE maintie_gold_{train,dev}.bio, top-level entity types
                   (column 2): PhysicalObject, Activity, State, Process, Property.
    pii-ner        token classification, Presidio synth_dataset_v2.json split by template (tools/data/datasets.py:
                   template_id % 10 == 8 dev, == 9 held-out test, never read, else train); its 17 entity
                   type names in PII_TYPES order (alphabetical). US_DRIVER_LICENSE and US_SSN occur only in
                   the dev split (and perhaps test), never in train.
    ner-general    token classification, PER / ORG / LOC from BTC (btc.train / btc.dev) and WNUT-17
                   (wnut17train.conll / emerging.dev.conll), train = BTC train + WNUT train, dev = BTC dev +
                   WNUT dev (BTC first). WNUT types are mapped person -> PER, location -> LOC, corporation
                   and group -> ORG; product and creative-work become O. BTC tags "@" mentions as two
                   entities ("@ B-PER / handle B-PER"); an "@" tagged B-X and followed by B-X is set to O,
                   so the entity is the handle alone, as BTC's other mentions ("@ O / handle B-PER") and
                   WNUT tag them.

Word-level BIO files (MaintIE, BTC, WNUT) become character spans over the text that tools/data/datasets.py makes,
the words joined with single spaces: an entity runs from a B-X word over the following I-X words of the
same type, from the first word's first character to the last word's last character. An I-X that does not
continue an X entity (none occur in these files) starts an entity, so no gold entity is lost.

NER label order: "O", then B-X, I-X for each type X in the task's type order.
"""

import argparse
import sys

from tools.data import datasets

DEFAULT_DATA_DIR = datasets.DEFAULT_DATA_DIR

MAINT_TYPES = ("PhysicalObject", "Activity", "State", "Process", "Property")
PII_TYPES = ("AGE", "CREDIT_CARD", "DATE_TIME", "DOMAIN_NAME", "EMAIL_ADDRESS", "GPE", "IBAN_CODE", "IP_ADDRESS",
             "NRP", "ORGANIZATION", "PERSON", "PHONE_NUMBER", "STREET_ADDRESS", "TITLE", "US_DRIVER_LICENSE",
             "US_SSN", "ZIP_CODE")
GENERAL_TYPES = ("PER", "ORG", "LOC")
WNUT_MAP = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG",
            "product": None, "creative-work": None}
BTC_MAP = {"PER": "PER", "ORG": "ORG", "LOC": "LOC"}


def bio_labels(types):
    """["O", "B-T1", "I-T1", "B-T2", ...]."""
    out = ["O"]
    for t in types:
        out += ["B-" + t, "I-" + t]
    return out


def bio_to_spans(words, tags):
    """Character spans [(start, end, type)] of word-level BIO tags over " ".join(words) (see the module
    docstring: B-X starts an entity, I-X continues an X entity or, when it cannot, starts one)."""
    offsets = datasets.token_offsets(words)
    spans, cur = [], None  # cur = [start, end, type]
    for (a, b), tag in zip(offsets, tags):
        prefix, typ = (tag[:2], tag[2:]) if tag != "O" else ("O", None)
        if prefix == "I-" and cur is not None and cur[2] == typ:
            cur[1] = b
            continue
        if cur is not None:
            spans.append(tuple(cur))
            cur = None
        if prefix in ("B-", "I-"):
            cur = [a, b, typ]
        elif tag != "O":
            raise ValueError("tag %r is not O, B-X or I-X" % tag)
    if cur is not None:
        spans.append(tuple(cur))
    return spans


def _map_tags(tags, mapping):
    """Tags with their types mapped (None -> O)."""
    out = []
    for t in tags:
        if t == "O":
            out.append(t)
            continue
        m = mapping[t[2:]]
        out.append("O" if m is None else t[:2] + m)
    return out


def btc_fix_mentions(words, tags):
    """BTC's "@ B-X / handle B-X" -> "@ O / handle B-X" (module docstring)."""
    tags = list(tags)
    for i in range(len(words) - 1):
        if words[i] == "@" and tags[i].startswith("B-") and tags[i + 1] == tags[i]:
            tags[i] = "O"
    return tags


class Task:
    def __init__(self, name, kind, labels, types, reader, description):
        self.name, self.kind, self.labels, self.types = name, kind, list(labels), types
        self._reader = reader
        self.description = description

    def examples(self, split, data_dir=DEFAULT_DATA_DIR):
        """[(text, label)] or [(text, spans)] of "train" or "dev", in file order."""
        return list(self._reader(data_dir, datasets.canonical_split(split)))

    def data_files(self, data_dir=DEFAULT_DATA_DIR):
        """The dataset files the task reads (for provenance), relative to data_dir."""
        return list(DATA_FILES[self.name])


def _clinc(data_dir, split):
    seen = set()
    for ex in datasets.iter_examples(data_dir, "clinc150", split):
        seen.add(ex["text"])
        yield ex["text"], ex["intent"]
    if split == "train":
        for text in datasets.clinc_oos_plus_train(data_dir):
            if text not in seen:
                seen.add(text)
                yield text, "oos"


def _maint(data_dir, split):
    for ex in datasets.iter_examples(data_dir, "maintie", split):
        yield ex["text"], bio_to_spans(ex["tokens"], ex["tags"])


def _pii(data_dir, split):
    for ex in datasets.iter_examples(data_dir, "presidio_synth_pii", split):
        yield ex["text"], [(s["start"], s["end"], s["entity_type"]) for s in ex["spans"]]


def _general(data_dir, split):
    for ex in datasets.iter_examples(data_dir, "btc", split):
        tags = btc_fix_mentions(ex["tokens"], _map_tags(ex["tags"], BTC_MAP))
        yield ex["text"], bio_to_spans(ex["tokens"], tags)
    for ex in datasets.iter_examples(data_dir, "wnut17", split):
        yield ex["text"], bio_to_spans(ex["tokens"], _map_tags(ex["tags"], WNUT_MAP))


def clinc_labels(data_dir=DEFAULT_DATA_DIR):
    """The 150 intent names of data_full.json's train split, sorted, then "oos"."""
    names = sorted({label for _, label in _clinc(data_dir, "train")} - {"oos"})
    return names + ["oos"]


DATA_FILES = {
    "intent-clinc": ["clinc150/data_full.json", "clinc150/data_oos_plus.json"],
    "maint-ner": ["maintie/maintie_gold_train.bio", "maintie/maintie_gold_dev.bio"],
    "pii-ner": ["presidio_synth_pii/synth_dataset_v2.json"],
    "ner-general": ["btc/btc.train", "btc/btc.dev", "wnut17/wnut17train.conll", "wnut17/emerging.dev.conll"],
}
TASK_NAMES = ("intent-clinc", "maint-ner", "pii-ner", "ner-general")


# name -> (kind, entity types (None: classification), example reader, description)
_TASKS = {
    "intent-clinc": ("sequence_classification", None, _clinc, "CLINC150 intents (150 + oos)"),
    "maint-ner": ("token_classification", MAINT_TYPES, _maint, "MaintIE top-level entities"),
    "pii-ner": ("token_classification", PII_TYPES, _pii, "Presidio synthetic PII"),
    "ner-general": ("token_classification", GENERAL_TYPES, _general, "PER/ORG/LOC from BTC + WNUT-17"),
}


def get(name, data_dir=DEFAULT_DATA_DIR):
    """The Task called name (TASK_NAMES): NER labels from the entity types (bio_labels); intent-clinc reads
    its label list from the data."""
    if name not in _TASKS:
        raise ValueError("unknown task %r (known: %s)" % (name, ", ".join(TASK_NAMES)))
    kind, types, reader, description = _TASKS[name]
    labels = clinc_labels(data_dir) if types is None else bio_labels(types)
    return Task(name, kind, labels, types, reader, description)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tasks.py", description="Count each task's examples.")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR)
    args = ap.parse_args(argv)
    for name in TASK_NAMES:
        t = get(name, args.data)
        for split in ("train", "dev"):
            ex = t.examples(split, args.data)
            if t.kind == "token_classification":
                counts = {}
                for _, spans in ex:
                    for _, _, typ in spans:
                        counts[typ] = counts.get(typ, 0) + 1
                what = "%d entities (%s)" % (sum(counts.values()),
                                             ", ".join("%s %d" % (k, counts.get(k, 0)) for k in t.types))
            else:
                what = "%d labels seen" % len({label for _, label in ex})
            print("%-13s %-5s %6d texts, %s" % (name, split, len(ex), what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
