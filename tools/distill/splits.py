"""The dev split of the task (CLINC150 "val" + "oos_val"; the test split is held out of ../shared/data and not
readable) cut into three portions by the SHA-256 of each text, so the cut never depends on file order:

    traffic    50 %  stands in for production traffic: the student's escalations on it go to the teacher
    selection  20 %  chooses the new student's epoch, temperature and threshold
    heldout    30 %  compares old and new; never used for training or for any choice

The shipped student was trained on the train split only; its best epoch, temperature and threshold were chosen
on the whole dev split, held-out portion included — an advantage for the old student in the comparison."""

import hashlib

PORTIONS = (("traffic", 50), ("selection", 20), ("heldout", 30))


def portion(text):
    """The portion a text belongs to (by the first 8 bytes of its SHA-256, modulo 100)."""
    b = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % 100
    at = 0
    for name, share in PORTIONS:
        at += share
        if b < at:
            return name
    raise AssertionError("shares add up to 100")


def split(examples):
    """{portion: [(text, label)]} of dev examples, each portion in file order."""
    out = {name: [] for name, _ in PORTIONS}
    for ex in examples:
        out[portion(ex[0])].append(ex)
    return out
