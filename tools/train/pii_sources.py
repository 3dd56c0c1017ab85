"""Real text for pii-ner's training mix (tools/train/pii_mix.py), read from the datasets' TRAIN splits only:

    social_examples(data_dir)     BTC and WNUT-17 train sentences, detokenized (words joined the way people
                                  write them: "Gateshead's", "hi, Anna!"), with their entities mapped onto
                                  Presidio's type names: person -> PERSON, location -> GPE, organisation,
                                  corporation and group -> ORGANIZATION, product and creative work -> nothing;
                                  links (http..., www...) -> DOMAIN_NAME, as Presidio names them.
    negative_texts(data_dir)      texts that hold no personal data: MaintIE work orders and CLINC150
                                  requests, less the CLINC requests that name a place or a person (a
                                  gazetteer test, see _names_a_place_or_person), so that ordinary nouns of
                                  work orders and requests are seen untagged.

Everything is deterministic (file order) and read in place; nothing is copied. Standard library only, plus
the fake-data library's name lists (Debian python3-fake-factory) for the gazetteer.
"""

import re

from tools.data import datasets, tasks

SOCIAL_MAP = {"PER": "PERSON", "LOC": "GPE", "ORG": "ORGANIZATION",  # BTC
              "person": "PERSON", "location": "GPE", "corporation": "ORGANIZATION", "group": "ORGANIZATION",
              "product": None, "creative-work": None}  # WNUT-17
_NO_SPACE_BEFORE = {".", ",", "!", "?", ";", ":", ")", "]", "}", "%", "'s", "'S", "n't", "N'T", "'re", "'m", "'ll",
                    "'ve", "'d", "'RE", "'M", "'LL", "'VE", "'D", "..."}
_NO_SPACE_AFTER = {"(", "[", "{", "$", "#", "@"}
_LINK = re.compile(r"^(https?://|www\.)\S+$", re.I)


def detokenize(words, tags):
    """(text, [(start, end, tag-of-word)]) with the words joined as written (no blank before ",", "'s",
    after "(", "@", "#"...). Returns the text and each word's character span."""
    out, spans, pos = [], [], 0
    prev = None
    for w in words:
        glue = prev is not None and (w in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER or
                                     (w.startswith("'") and len(w) <= 3 and w[1:].isalpha()))
        if prev is not None and not glue:
            out.append(" ")
            pos += 1
        spans.append((pos, pos + len(w)))
        out.append(w)
        pos += len(w)
        prev = w
    return "".join(out), spans


def _entities(words, tags, offsets):
    """Character spans of word-level BIO tags over detokenized words, with SOCIAL_MAP applied; links become
    DOMAIN_NAME; BTC's "@" before a tagged handle joins the handle's entity."""
    mapped = []
    for w, t in zip(words, tags):
        if t == "O":
            mapped.append("DOMAIN_NAME" if _LINK.match(w) else None)
            continue
        typ = SOCIAL_MAP.get(t[2:])
        mapped.append(None if typ is None else (t[:2] + typ))
    ents, cur = [], None
    for i, (w, m) in enumerate(zip(words, mapped)):
        if m == "DOMAIN_NAME":
            if cur:
                ents.append(cur)
                cur = None
            ents.append([offsets[i][0], offsets[i][1], "DOMAIN_NAME"])
            continue
        if m is not None and m.startswith("I-") and cur is not None and cur[2] == m[2:]:
            cur[1] = offsets[i][1]
            continue
        # "@ B-X handle B-X" (BTC): the "@" and the handle are one entity
        if m is not None and m.startswith("B-") and cur is not None and cur[2] == m[2:] and words[i - 1] == "@":
            cur[1] = offsets[i][1]
            continue
        if cur:
            ents.append(cur)
            cur = None
        if m is not None:
            cur = [offsets[i][0], offsets[i][1], m[2:]]
    if cur:
        ents.append(cur)
    return [tuple(e) for e in ents]


def social_examples(data_dir, split="train"):
    """[(text, spans)] of BTC then WNUT-17 (the split given; training uses "train"), Presidio type names."""
    out = []
    for name in ("btc", "wnut17"):
        for ex in datasets.iter_examples(data_dir, name, split):
            words, tags = ex["tokens"], ex["tags"]
            if name == "btc":
                tags = list(tags)
            text, offsets = detokenize(words, tags)
            out.append((text, _entities(words, tags, offsets)))
    return out


# ------------------------------------------------------------------------------------------------
# PII-free text
# ------------------------------------------------------------------------------------------------

_gazetteer = None


def _common_words():
    """Lower-case lemmas of WordNet (Debian wordnet-base), as written in its data files: a word written in
    lower case there is a common word ("rose", "mark"); "Paris" is only written capitalized."""
    words = set()
    for part in ("noun", "verb", "adj", "adv"):
        try:
            f = open("/usr/share/wordnet/data." + part, "r", encoding="latin-1")
        except OSError:
            continue
        with f:
            for line in f:
                if line.startswith(" "):
                    continue
                fields = line.split(" ")
                n = int(fields[3], 16)
                for k in range(n):
                    lemma = fields[4 + 2 * k]
                    if lemma.islower():
                        words.add(lemma.split("(")[0])
    return words


def _gazetteer_words():
    """Lower-case first names, cities and countries of the fake-data library's English locales that are not
    common English words."""
    global _gazetteer
    if _gazetteer is None:
        names = set()
        try:
            from faker.providers.person.en_US import Provider as P
            from faker.providers.address.en_US import Provider as A
            from faker.providers.address.en_GB import Provider as G
            names |= {n.lower() for n in list(P.first_names_male) + list(P.first_names_female)}
            names |= {c.lower() for c in A.countries if " " not in c}
            names |= {c.lower() for c in getattr(A, "states", ()) if " " not in c}
            names |= {c.lower() for c in getattr(G, "cities", ()) if " " not in c} if hasattr(G, "cities") else set()
        except ImportError:
            pass
        names |= {"london", "paris", "berlin", "tokyo", "rome", "madrid", "chicago", "boston", "seattle", "dallas",
                  "miami", "denver", "atlanta", "toronto", "sydney", "dubai", "mexico", "canada", "japan", "china",
                  "india", "france", "spain", "italy", "germany", "vegas", "york", "francisco", "angeles", "orlando",
                  "hawaii", "europe", "asia", "africa", "australia", "moscow", "beijing", "vancouver", "austin",
                  "houston", "phoenix", "portland", "cancun", "bali", "barcelona", "amsterdam", "london's"}
        _gazetteer = names - _common_words()
    return _gazetteer


def _names_a_place_or_person(text):
    g = _gazetteer_words()
    return any(w in g for w in re.findall(r"[a-z']+", text.lower()))


# CLINC intents whose requests often hold a name (someone to call, the user's or the assistant's name).
NAMED_INTENTS = ("change_user_name", "user_name", "change_ai_name", "make_call", "text", "meeting_schedule",
                 "schedule_meeting", "calendar", "calendar_update", "share_location", "what_is_your_name")


def negative_texts(data_dir):
    """(maintie, clinc): PII-free train texts of MaintIE (all) and CLINC150 (those of intents outside
    NAMED_INTENTS that name no place or person by the gazetteer test), in file order."""
    maint = [t for t, _ in tasks.get("maint-ner", data_dir).examples("train", data_dir)]
    clinc = [ex["text"] for ex in datasets.iter_examples(data_dir, "clinc150", "train")
             if ex["intent"] not in NAMED_INTENTS]
    return maint, [t for t in clinc if not _names_a_place_or_person(t)]
