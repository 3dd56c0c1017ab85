"""pii_eval — the realistic PII evaluation set (tests/fixtures/pii-eval/): texts written for the purpose, by hand,
with hand-checked gold spans; never trained on (tests/py/test_pii_data.py checks that none of them occurs in
pii-ner's generated training texts). Standard library only.

Source files texts-*.txt hold records, each opened by a line "=== KIND" (ticket, email, clinical, field, chat,
form, letter: where the text comes from, most of them holding personal data; free: PII-free texts written
to be read beside the work orders), the text on the lines after it (line
breaks kept, the record's trailing line break dropped), each entity written in place as ⟦value|T⟧ with T one of
the short names of CODES. eval.jsonl is made from them (`python3 -m tools.data.pii_eval`), one record a line:

    {"id": "t001", "kind": "ticket", "text": "...", "entities": [{"start", "end", "label", "text"}]}

start/end are [start, end) offsets in code points (Python string indices; the chat texts hold emoji, so
JavaScript's UTF-16 indices differ after them: tools/eval/redaction.mjs maps them).

    records = pii_eval.load()                    # from eval.jsonl
    /usr/bin/python3 -m tools.data.pii_eval [--check]   # rebuild eval.jsonl (--check: fail if it is stale)
"""

import argparse
import glob
import json
import os
import sys

from tools import ROOT

FOLDER = os.path.join(ROOT, "tests", "fixtures", "pii-eval")
JSONL = os.path.join(FOLDER, "eval.jsonl")
CODES = {"P": "PERSON", "T": "TITLE", "PH": "PHONE_NUMBER", "E": "EMAIL_ADDRESS", "A": "STREET_ADDRESS", "G": "GPE",
         "Z": "ZIP_CODE", "O": "ORGANIZATION", "D": "DATE_TIME", "AG": "AGE", "N": "NRP", "C": "CREDIT_CARD",
         "I": "IBAN_CODE", "S": "US_SSN", "DL": "US_DRIVER_LICENSE", "IP": "IP_ADDRESS", "U": "DOMAIN_NAME"}
KINDS = ("ticket", "email", "clinical", "field", "chat", "form", "letter", "free")
OPEN, CLOSE = "⟦", "⟧"


class EvalSetError(Exception):
    pass


def parse_markup(src, where="?"):
    """(text, entities) of one record's marked-up text."""
    text, ents, i = [], [], 0
    pos = 0
    while i < len(src):
        j = src.find(OPEN, i)
        if j < 0:
            text.append(src[i:])
            pos += len(src) - i
            break
        text.append(src[i:j])
        pos += j - i
        k = src.find(CLOSE, j)
        if k < 0 or OPEN in src[j + 1:k]:
            raise EvalSetError("%s: unbalanced %s" % (where, OPEN))
        body = src[j + 1:k]
        if "|" not in body:
            raise EvalSetError("%s: %r has no |TYPE" % (where, body))
        value, code = body.rsplit("|", 1)
        if code not in CODES or not value or value != value.strip():
            raise EvalSetError("%s: bad entity %r" % (where, body))
        ents.append({"start": pos, "end": pos + len(value), "label": CODES[code], "text": value})
        text.append(value)
        pos += len(value)
        i = k + 1
    out = "".join(text)
    if CLOSE in out or OPEN in out:
        raise EvalSetError("%s: stray %s" % (where, CLOSE))
    return out, ents


def read_sources(folder=FOLDER):
    """Records of every texts-*.txt, in file order, with ids t001, t002, ..."""
    records = []
    for path in sorted(glob.glob(os.path.join(folder, "texts-*.txt"))):
        with open(path, "r", encoding="utf-8") as f:
            lines = f.read().split("\n")
        kind, body = None, []

        def flush():
            if kind is None:
                return
            src = "\n".join(body).rstrip("\n")
            where = "%s record %d" % (os.path.basename(path), len(records) + 1)
            text, ents = parse_markup(src, where)
            if not text.strip():
                raise EvalSetError("%s: empty text" % where)
            if kind == "free" and ents:
                raise EvalSetError("%s: kind %s with %d entities" % (where, kind, len(ents)))
            records.append({"id": "t%03d" % (len(records) + 1), "kind": kind, "text": text, "entities": ents})
        for line in lines:
            if line.startswith("=== "):
                flush()
                kind = line[4:].strip()
                if kind not in KINDS:
                    raise EvalSetError("%s: unknown kind %r" % (path, kind))
                body = []
            elif kind is not None:
                body.append(line)
        flush()
    return records


def dumps(records):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def load(path=JSONL):
    with open(path, "r", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pii_eval.py", description="Build the PII evaluation set's eval.jsonl.")
    ap.add_argument("--check", action="store_true", help="fail when eval.jsonl is not what the sources give")
    args = ap.parse_args(argv)
    try:
        records = read_sources()
    except EvalSetError as e:
        print("pii_eval.py: error: %s" % e, file=sys.stderr)
        return 1
    text = dumps(records)
    if args.check:
        with open(JSONL, "r", encoding="utf-8") as f:
            if f.read() != text:
                print("pii_eval.py: %s is stale: run python3 -m tools.data.pii_eval" % JSONL, file=sys.stderr)
                return 1
        return 0
    with open(JSONL, "w", encoding="utf-8") as f:
        f.write(text)
    n_pii = sum(1 for r in records if r["entities"])
    types = {}
    for r in records:
        for e in r["entities"]:
            types[e["label"]] = types.get(e["label"], 0) + 1
    print("wrote %s: %d texts (%d with personal data, %d without), %d entities: %s" % (
        JSONL, len(records), n_pii, len(records) - n_pii, sum(types.values()),
        ", ".join("%s %d" % kv for kv in sorted(types.items(), key=lambda kv: -kv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
