"""The training data: tokenization and labels of a task's examples, batching and padding, the masked-LM's
texts and masking, the per-epoch train set (with pii-ner's synthetic texts), the data files' provenance,
and logits of encoded examples.

Tokenization is tools/tokenizer/wordpiece.py's "rust" flavour with character offsets, equal to the
engine's C tokenizer (ids and code-point offsets); texts are cut to MAX_LEN tokens ([CLS] + 254 + [SEP]).
NER labels per subword token: B-X on the first token overlapping an entity, I-X on every later token of
it (later words too), O elsewhere; [CLS], [SEP] and padding get -100 (ignored by the loss).
"""

import os

import numpy as np
import torch

from tools.data import datasets
from tools.data import tasks as tasks_mod
from tools.eval import reference_bert
from tools.formats import tokenizer_json
from tools.tokenizer import wordpiece
from tools.train.model import setup_torch
from tools.train.pii import augment_pii, augment_values
from tools.train.runtime import sha256_file
from tools.train.settings import MAX_LEN, PRESETS


def load_tokenizer(folder):
    return wordpiece.BertTokenizer.from_dir(folder, "rust")


def read_vocab(folder):
    return tokenizer_json.read_vocab(os.path.join(folder, "vocab.txt"))


def ner_token_tags(offsets, spans, n_content):
    """Tag names of the content tokens 1..n_content from character spans (the module docstring's rule)."""
    tags = ["O"] * n_content
    for s, e, typ in spans:
        first = True
        for i in range(n_content):
            a, b = offsets[i + 1]
            if a < e and b > s and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + typ
                first = False
    return tags


def encode_task(task, examples, tok):
    """Encoded examples: dicts with ids, offsets, and label (class id) or tags (tag names of the content
    tokens) + label_ids (per token, -100 at [CLS]/[SEP])."""
    label2id = {l: i for i, l in enumerate(task.labels)}
    out = []
    for text, y in examples:
        ids, tokens, offsets = tok.encode_offsets(text, MAX_LEN)
        ex = {"text": text, "ids": ids, "offsets": offsets, "tokens": tokens}
        if task.kind == "sequence_classification":
            ex["label"] = label2id[y]
        else:
            tags = ner_token_tags(offsets, y, len(ids) - 2)
            ex["spans"] = [tuple(s) for s in y]
            ex["tags"] = tags
            ex["label_ids"] = [-100] + [label2id[t] for t in tags] + [-100]
        out.append(ex)
    return out


def batch_order(lengths, batch, rng, shuffle=True, pool=50):
    """Lists of example indices: shuffled (by rng), grouped into pools of pool*batch examples sorted by
    length (little padding), cut into batches, the batches shuffled. Without shuffle: sorted by length."""
    n = len(lengths)
    if not shuffle:
        idx = sorted(range(n), key=lambda i: (lengths[i], i))
        return [idx[i:i + batch] for i in range(0, n, batch)]
    perm = rng.permutation(n)
    batches = []
    size = pool * batch
    for p in range(0, n, size):
        chunk = sorted(perm[p:p + size].tolist(), key=lambda i: lengths[i])
        batches += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def total_steps(lengths, hp, max_steps=0):
    """Optimizer steps of a run: batches per epoch times hp["epochs"], at most max_steps (0: no limit)."""
    total = len(batch_order(lengths, hp["batch"], np.random.RandomState(0))) * hp["epochs"]
    return min(total, max_steps) if max_steps else total


def collate(seqs, pad_id, label_seqs=None):
    """Padded tensors of a batch: (ids, attention mask) and, given label_seqs, labels padded with -100."""
    L = max(len(s) for s in seqs)
    ids = np.full((len(seqs), L), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), L), dtype=np.int64)
    labels = None if label_seqs is None else np.full((len(seqs), L), -100, dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
        if labels is not None:
            labels[i, :len(s)] = label_seqs[i]
    out = (torch.from_numpy(ids), torch.from_numpy(mask))
    return out + ((torch.from_numpy(labels),) if labels is not None else ())


def limit_examples(examples, limit):
    return examples if limit is None else examples[:limit]


def mlm_texts(args, split, wordnet_texts=0):
    """Every dataset's texts of the split (the first PRESETS[preset]["limit"] of each), for the masked LM; for
    the train split, wordnet_texts WordNet synsets too (tools/data/wordnet.py: glosses and example sentences)."""
    limit = PRESETS[args.preset]["limit"]
    texts = []
    for d in datasets.DATASETS:
        ts = [t for _, _, t in datasets.iter_texts(args.data, (split,), (d,))]
        texts += limit_examples(ts, limit)
    if split == "train" and wordnet_texts:
        from tools.data import wordnet
        texts += wordnet.gloss_texts(wordnet_texts, args.seed)
    return texts


def mask_tokens(ids, mask, gen, vocab_size, first_normal, mask_id, special_ids):
    """BERT masking of a padded batch: returns (input ids, selected positions as a bool tensor, targets)."""
    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in special_ids:
        special |= ids == s
    candidates = (mask == 1) & ~special
    r = torch.rand(ids.shape, generator=gen)
    selected = candidates & (r < 0.15)
    # every sequence gets at least one selected token (short texts would often get none)
    none = candidates.any(1) & ~selected.any(1)
    if none.any():
        rr = torch.rand(ids.shape, generator=gen).masked_fill(~candidates, -1.0)
        pick = rr.argmax(1)
        rows = torch.nonzero(none).flatten()
        selected[rows, pick[rows]] = True
    targets = ids[selected]
    r2 = torch.rand(ids.shape, generator=gen)
    rand_ids = torch.randint(first_normal, vocab_size, ids.shape, generator=gen)
    new = ids.clone()
    new[selected & (r2 < 0.8)] = mask_id
    use_rand = selected & (r2 >= 0.8) & (r2 < 0.9)
    new[use_rand] = rand_ids[use_rand]
    return new, selected, targets


# The data files the masked LM reads (every dataset's train split).
MLM_FILES = ["clinc150/data_full.json", "wnut17/wnut17train.conll", "btc/btc.train",
             "maintie/maintie_gold_train.bio", "presidio_synth_pii/synth_dataset_v2.json"]


def data_provenance(data_dir, task_name):
    """[{"file", "sha256"}] of the data files a stage ("mlm" or a task's fine-tuning) read."""
    files = MLM_FILES if task_name == "mlm" else tasks_mod.DATA_FILES[task_name]
    return [{"file": f, "sha256": sha256_file(os.path.join(data_dir, f))} for f in files]


def forward_logits(fn, encoded, pad_id, batch=64):
    """Per example logits (numpy float32): [C] for classification, [n_tokens, C] (the whole sequence,
    [CLS]/[SEP] included) for token classification. fn(ids, mask) -> logits tensor."""
    out = [None] * len(encoded)
    lengths = [len(e["ids"]) for e in encoded]
    with torch.no_grad():
        for b in batch_order(lengths, batch, None, shuffle=False):
            ids, mask = collate([encoded[i]["ids"] for i in b], pad_id)
            lg = fn(ids, mask).numpy().astype(np.float32)
            for j, i in enumerate(b):
                out[i] = lg[j] if lg.ndim == 2 else lg[j, :lengths[i]]
    return out


_PII_MIX = {}


def pii_mix(args):
    """The run's PiiMix (tools/train/pii_mix.py: fake-value pools and real-text sources), made once."""
    key = (args.data, args.seed)
    if key not in _PII_MIX:
        from tools.train.pii_mix import PiiMix
        _PII_MIX[key] = PiiMix(args.data, args.seed)
    return _PII_MIX[key]


def case_variants(examples, share, seed):
    """The examples with a share of them re-cased as people type (deterministic in seed): the first letter
    capitalized, with a full stop or question mark added at the end, every word capitalized, or all upper case.
    MaintIE and CLINC150 are all lower case; users are not. Spans keep their offsets (only length-preserving
    changes are made; a final mark is appended after the last span)."""
    rng = np.random.RandomState(seed)
    out = []
    for text, y in examples:
        if not text or rng.rand() >= share:
            out.append((text, y))
            continue
        r = rng.rand()
        if r < 0.45:
            new = text[0].upper() + text[1:]
        elif r < 0.7:
            new = text[0].upper() + text[1:] + ("" if text[-1] in ".?!" else ("?" if rng.rand() < 0.3 else "."))
        elif r < 0.9:
            new = " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
        else:
            new = text.upper()
        out.append((new if len(new) >= len(text) and new[:len(text)].lower() == text[:len(text)].lower() else text, y))
    return out


def task_data(args, task, tok, hp=None, epoch=0, dev=True):
    """(encoded train, encoded dev). pii-ner with hp["mix"]: the epoch's mix of tools/train/pii_mix.py (the
    train split, augment_pii's synth x its size, generated texts, BTC/WNUT, PII-free texts; mix scales the
    sizes); with hp["synth"] alone: the train split plus synth x its size synthetic texts (augment_pii). Both
    are drawn afresh for every epoch (seed + 1000 * epoch)."""
    limit = PRESETS[args.preset]["limit"]
    raw = limit_examples(task.examples("train", args.data), limit)
    if hp and hp.get("augment"):
        raw = augment_values(raw, hp["augment"], args.seed)
    if hp and hp.get("mix") and task.name == "pii-ner":
        raw = pii_mix(args).epoch(raw, epoch, args.seed, scale=hp["mix"], synth=hp.get("synth") or 0.0)
    elif hp and hp.get("synth") and task.name == "pii-ner":
        raw = augment_pii(raw, int(round(hp["synth"] * len(raw))), args.seed + 1000 * epoch)
    if hp and hp.get("recase"):
        raw = case_variants(raw, hp["recase"], args.seed + 1000 * epoch)
    train = encode_task(task, raw, tok)
    if not dev:
        return train, None
    return train, encode_task(task, limit_examples(task.examples("dev", args.data), limit), tok)


def resample_each_epoch(task, hp):
    """Whether the train set is drawn afresh every epoch (pii-ner's synthetic texts, re-cased copies)."""
    return (bool(hp.get("synth") or hp.get("mix")) and task.name == "pii-ner") or bool(hp.get("recase"))


def oracle_logits(folder, encoded, pad_id):
    """Logits of the saved folder through tools/eval/reference_bert.py (the PyTorch oracle)."""
    setup_torch()
    ref = reference_bert.ReferenceBert.load(folder)
    return forward_logits(lambda ids, mask: ref.forward(ids, None, mask)["logits"], encoded, pad_id)
