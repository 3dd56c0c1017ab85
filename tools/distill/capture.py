"""Captured records (edgetag.capture/1 JSON Lines, web/capture/record.js) read and checked before they become
training examples: schema, task, the model they came from, a teacher label in the student's label set, a text
that is not empty. Every record refused is counted by its reason; none is silently used."""

import json

SCHEMA = "edgetag.capture/1"


def read_records(path):
    """The records of a JSONL file, and the lines that are not JSON records of the schema (as reasons)."""
    records, bad = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError:
                bad.append((n, "not_json"))
                continue
            if not isinstance(r, dict) or r.get("schema") != SCHEMA:
                bad.append((n, "schema"))
                continue
            records.append(r)
    return records, bad


def teacher_examples(records, labels, model_name):
    """[(text, teacher label)] of the classify records of `model_name` whose teacher label is one of `labels`,
    duplicates (same text) kept once (the last answer wins), and {reason: count} of the refused ones."""
    refused = {}
    by_text = {}
    label_set = set(labels)
    for r in records:
        reason = None
        if r.get("task") != "classify":
            reason = "task"
        elif (r.get("model") or {}).get("name") != model_name:
            reason = "model"
        elif not isinstance(r.get("text"), str) or not r["text"].strip():
            reason = "text"
        elif (r.get("teacher") or {}).get("label") not in label_set:
            reason = "label"
        if reason:
            refused[reason] = refused.get(reason, 0) + 1
            continue
        by_text[r["text"]] = r["teacher"]["label"]
    return list(by_text.items()), refused
