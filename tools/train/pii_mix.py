"""pii-ner's training set for one epoch, drawn afresh every epoch from a seed:

    Presidio's train templates and augment_pii's joined / value-swapped copies of them (tools/train/pii.py)
  + generated texts: carrier clauses, forms and e-mails (tools/train/pii_carriers.py) filled with fake values
    of many locales (tools/train/pii_values.py), strung together with real PII-free text: MaintIE work
    orders and CLINC requests, so that work-order nouns sit next to names; people's casing (all lower case,
    names in lower case, shouting) and punctuation
  + real social-media sentences of BTC and WNUT-17 with persons, places and organisations
    (tools/train/pii_sources.py)
  + real PII-free texts: MaintIE work orders and CLINC requests, untagged.

    mix = PiiMix(data_dir, seed)                 # pools and sources, once per run
    examples = mix.epoch(presidio_train, epoch, scale)   # [(text, [(start, end, type)])]

Only TRAIN splits are read; the dev splits and the realistic evaluation set are never used here.
"""

import numpy as np

from tools.train import pii_carriers as C
from tools.train.pii import augment_pii
from tools.train.pii_sources import negative_texts, social_examples
from tools.train.pii_values import SLOT_TYPE, ValuePools

# Texts per epoch at scale 1.
GENERATED, SOCIAL, MAINT_NEG, CLINC_NEG = 7000, 2500, 862, 1200
KINDS = (("clauses", 0.23), ("field", 0.20), ("chat", 0.10), ("form", 0.11), ("card", 0.05), ("email", 0.10),
         ("neutral", 0.11), ("social", 0.10))
JOINS = (". ", ". ", ", ", " - ", "\n", "; ", " ", ". ", "! ", " | ", "\n\n")


class Builder:
    """A text being built: appended pieces with their spans."""

    def __init__(self):
        self.text, self.spans = "", []

    def add(self, piece, spans=()):
        base = len(self.text)
        self.text += piece
        self.spans += [(a + base, b + base, t) for a, b, t in spans]

    def join(self, sep, piece, spans=()):
        if self.text:
            self.text += sep
        self.add(piece, spans)


class PiiMix:
    def __init__(self, data_dir, seed, per_locale=None):
        self.pools = ValuePools(seed) if per_locale is None else ValuePools(seed, per_locale)
        self.social = social_examples(data_dir)
        self.maint, self.clinc = negative_texts(data_dir)

    # -- pieces ---------------------------------------------------------------------------------------------

    def fill(self, template, rng, name_case=None):
        """(text, spans) of a template with its {SLOT}s filled."""
        b = Builder()
        i = 0
        while i < len(template):
            j = template.find("{", i)
            if j < 0:
                b.add(template[i:])
                break
            k = template.index("}", j)
            b.add(template[i:j])
            slot = template[j + 1:k]
            v = self.pools.draw(slot, rng)
            typ = SLOT_TYPE[slot]
            if typ == "PERSON" and name_case:
                v2 = v.lower() if name_case == "lower" else v.upper()
                v = v2 if len(v2) == len(v) else v
            b.add(v, [(0, len(v), typ)] if typ else [])
            i = k + 1
        return b.text, b.spans

    def clause(self, setting, rng, name_case=None):
        pool = C.CLAUSES[setting]
        t, s = self.fill(pool[rng.randint(len(pool))], rng, name_case)
        if rng.rand() < 0.4 and t[:1].islower():
            t = t[0].upper() + t[1:]
        return t, s

    def neutral(self, rng):
        r = rng.rand()
        if r < 0.45:
            return self.maint[rng.randint(len(self.maint))], []
        if r < 0.7:
            return self.clinc[rng.randint(len(self.clinc))], []
        return self.fill(C.NEUTRAL[rng.randint(len(C.NEUTRAL))], rng)

    def form(self, rng):
        b = Builder()
        k = 2 + rng.randint(6)
        idx = rng.choice(len(C.FORM_FIELDS), size=k, replace=False)
        sep = (": ", ":\n", ": ", " - ", ":\t", ":  ")[rng.randint(6)]
        line = ("\n", "\n", "\n\n", " | ", "; ")[rng.randint(5)]
        for i in idx:
            key, slot = C.FORM_FIELDS[i]
            if rng.rand() < 0.15:
                key = key.upper()
            if slot is None:
                opts = C.FIELD_PLAIN[C.FORM_FIELDS[i][0]]
                val, spans = opts[rng.randint(len(opts))], []
            else:
                val, spans = self.fill("{%s}" % slot, rng)
            piece = key + sep
            b.join(line, piece + val, [(a + len(piece), e + len(piece), t) for a, e, t in spans])
        if rng.rand() < 0.4:
            t, s = self.neutral(rng) if rng.rand() < 0.5 else self.clause("ticket", rng)
            b.join(line + ("Notes: " if rng.rand() < 0.5 else ""), t, s)
        return b.text, b.spans

    def card(self, rng):
        """A CV head or contact card: the name and the job on lines of their own, then labelled fields, the label
        on its own line or before the value, blank lines between."""
        b = Builder()
        blank = ("\n\n", "\n")[rng.randint(2)]
        b.add(*self.fill("{PERSON}", rng))
        if rng.rand() < 0.8:
            b.join(blank, *self.fill("{JOB}", rng))
        if rng.rand() < 0.5:
            b.join(blank, C.CARD_HEADERS[rng.randint(len(C.CARD_HEADERS))])
        fields = [C.CARD_FIELDS[i] for i in rng.permutation(len(C.CARD_FIELDS))[:2 + rng.randint(4)]]
        sep = (":\n", ": ", ":\n", " ")[rng.randint(4)]
        for key, slot in fields:
            t, sp = self.fill("{%s}" % slot, rng)
            b.join(blank, key + sep + t, [(a + len(key + sep), e + len(key + sep), ty) for a, e, ty in sp])
        if rng.rand() < 0.3:
            b.add(".")
        return b.text, b.spans

    def email(self, rng):
        b = Builder()
        t, s = self.fill(C.EMAIL_OPENINGS[rng.randint(len(C.EMAIL_OPENINGS))], rng)
        b.add(t, s)
        body = Builder()
        for _ in range(1 + rng.randint(3)):
            r = rng.rand()
            t, s = (self.clause(("ticket", "letter", "clinical", "field")[rng.randint(4)], rng) if r < 0.6
                    else self.neutral(rng))
            body.join(JOINS[rng.randint(len(JOINS))], t, s)
        b.join(("\n\n", "\n", " ")[rng.randint(3)], body.text, body.spans)
        t, s = self.fill(C.EMAIL_CLOSINGS[rng.randint(len(C.EMAIL_CLOSINGS))], rng)
        b.join(("\n\n", "\n", " ")[rng.randint(3)], t, s)
        return b.text, b.spans

    def generated(self, rng):
        """One generated text of a kind drawn from KINDS."""
        kind = KINDS[rng.choice(len(KINDS), p=[w for _, w in KINDS])][0]
        b = Builder()
        name_case = ("lower" if rng.rand() < 0.5 else "upper") if rng.rand() < 0.15 else None
        if kind == "clauses":
            setting = ("ticket", "clinical", "letter", "chat", "field")[rng.randint(5)]
            for _ in range(1 + rng.randint(3)):
                t, s = self.clause(setting, rng, name_case) if rng.rand() < 0.75 else self.neutral(rng)
                b.join(JOINS[rng.randint(len(JOINS))], t, s)
        elif kind == "field":
            pieces = [self.neutral(rng) if rng.rand() < 0.3 else (self.maint[rng.randint(len(self.maint))], [])
                      for _ in range(1 + rng.randint(2))]
            pieces += [self.clause("field", rng, name_case) for _ in range(1 + rng.randint(2))]
            order = rng.permutation(len(pieces)) if rng.rand() < 0.3 else range(len(pieces))
            for i in order:
                b.join(JOINS[rng.randint(len(JOINS))], *pieces[i])
        elif kind == "chat":
            pieces = [(self.clinc[rng.randint(len(self.clinc))], []), self.clause("chat", rng, name_case or "lower")]
            if rng.rand() < 0.5:
                pieces.reverse()
            for t, s in pieces:
                b.join((" ", ", ", ". ", " - ", "\n")[rng.randint(5)], t, s)
        elif kind == "form":
            b.add(*self.form(rng))
        elif kind == "card":
            b.add(*self.card(rng))
        elif kind == "email":
            b.add(*self.email(rng))
        elif kind == "neutral":
            for _ in range(1 + rng.randint(3)):
                b.join(JOINS[rng.randint(len(JOINS))], *self.neutral(rng))
        else:
            b.add(*self.social[rng.randint(len(self.social))])
            if rng.rand() < 0.5:
                b.join(" ", *self.clause("chat", rng, name_case))
        text, spans = b.text, b.spans
        r = rng.rand()
        if r < 0.08:
            low = text.lower()
            text = low if len(low) == len(text) else text
        elif r < 0.11:
            up = text.upper()
            text = up if len(up) == len(text) else text
        if rng.rand() < 0.3 and text[-1:] in ".!":
            text = text[:-1]
            spans = [(a, min(e, len(text)), t) for a, e, t in spans if a < len(text)]
        return text, sorted(spans)

    # -- one epoch ------------------------------------------------------------------------------------------

    def epoch(self, presidio_train, epoch, seed, scale=1.0, synth=1.0):
        """The training examples of one epoch (deterministic in seed and epoch)."""
        rng = np.random.RandomState((seed * 7919 + 1000 * epoch) % (2 ** 31))
        out = augment_pii(presidio_train, int(round(synth * len(presidio_train))), seed + 1000 * epoch)
        out += [self.generated(rng) for _ in range(int(round(GENERATED * scale)))]
        for pool, n in ((self.social, SOCIAL), ([(t, []) for t in self.maint], MAINT_NEG),
                        ([(t, []) for t in self.clinc], CLINC_NEG)):
            n = min(len(pool), int(round(n * scale)))
            out += [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]
        return [(t, _clean(t, s)) for t, s in out]


def _clean(text, spans):
    """Spans trimmed of surrounding blanks, empty ones dropped, overlaps resolved (the earlier wins), and
    names written as "{FIRST} {LAST}" (two PERSON spans one blank apart) made one PERSON."""
    out, last = [], 0
    for a, e, t in sorted(spans):
        while a < e and text[a].isspace():
            a += 1
        while e > a and text[e - 1].isspace():
            e -= 1
        if a < e and a >= last:
            if t == "PERSON" and out and out[-1][2] == "PERSON" and text[out[-1][1]:a] == " ":
                out[-1] = (out[-1][0], e, t)
            else:
                out.append((a, e, t))
            last = e
    return out
