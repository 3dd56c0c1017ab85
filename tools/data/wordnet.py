"""wordnet — English text from Princeton WordNet 3.0 as Debian's wordnet-base installs it (/usr/share/wordnet,
data.noun/verb/adj/adv; WordNet 3.0 licence: free use, copying and distribution with its copyright notice),
for the masked-LM pre-training corpus: each synset as one text, "lemma, lemma: gloss; "example"; ...",
with the lemmas' underscores as blanks. Standard library only; deterministic (file order, then a seeded pick).

    texts = wordnet.gloss_texts(limit=30000, seed=1234)   # [] when wordnet-base is not installed
"""

import os
import random

WORDNET_DIR = "/usr/share/wordnet"
PARTS = ("noun", "verb", "adj", "adv")
LICENSE_NOTE = ("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. (The WordNet 3.0 licence: "
                "permission to use, copy, modify and distribute for any purpose without fee, with this notice.)")


def available(folder=WORDNET_DIR):
    return all(os.path.isfile(os.path.join(folder, "data." + p)) for p in PARTS)


def iter_synsets(folder=WORDNET_DIR):
    """(lemmas, gloss) of every synset, in file order (nouns, verbs, adjectives, adverbs)."""
    for part in PARTS:
        with open(os.path.join(folder, "data." + part), "r", encoding="latin-1") as f:
            for line in f:
                if line.startswith(" ") or " | " not in line:
                    continue  # the licence header lines start with two blanks
                head, gloss = line.split(" | ", 1)
                fields = head.split(" ")
                n = int(fields[3], 16)
                lemmas = [fields[4 + 2 * k].split("(")[0].replace("_", " ") for k in range(n)]
                yield lemmas, gloss.strip()


def gloss_texts(limit=None, seed=1234, folder=WORDNET_DIR):
    """Synsets as texts: every one with an example sentence first, then a seeded sample of the others, at most
    limit in all (None: all), in file order within each group."""
    if not available(folder):
        return []
    with_ex, without = [], []
    for lemmas, gloss in iter_synsets(folder):
        text = "%s: %s" % (", ".join(lemmas[:3]), gloss)
        (with_ex if '"' in gloss else without).append(text)
    if limit is None:
        return with_ex + without
    out = with_ex[:limit]
    if len(out) < limit:
        rng = random.Random(seed)
        pick = sorted(rng.sample(range(len(without)), min(len(without), limit - len(out))))
        out += [without[i] for i in pick]
    return out
