"""build_vocab — learn a BERT WordPiece vocabulary from the datasets' train texts, the way Hugging Face's
WordPieceTrainer does, deterministically. Standard library only.

Usage (from the repository root):
    /usr/bin/python3 -m tools.tokenizer.build_vocab -o build/tok/cased --cased [--size 8000] [--data ../shared/data]
        [--min-frequency 2] [--limit-alphabet 1000]
    /usr/bin/python3 -m tools.tokenizer.build_vocab -o build/tok/uncased-8k --uncased

Writes OUT/vocab.txt, OUT/tokenizer.json and OUT/tokenizer_config.json (tools/formats/tokenizer_json.py): cased =
lowercase false and strip_accents false; uncased = lowercase true and strip_accents null (strip, as BERT).
Prints the size, the time, and coverage on the dev splits: the share of dev words (pre-tokenized words,
counted with repetition) that tokenize without [UNK], and the average number of pieces per word.

The algorithm (WordPieceTrainer = the BPE trainer with "##" continuation prefixes; train_wordpiece):
  1. Words: every train text is normalized by BertNormalizer (tools/tokenizer/wordpiece.py, the Rust semantics) and
     split by BertPreTokenizer; each distinct word is kept with its count.
  2. Alphabet: the characters of the words, counted with the words' counts; those seen fewer than
     min_frequency times are left out, and at most limit_alphabet of the most frequent are kept (ties: lower
     code point first). A word's characters outside the alphabet are dropped from it, as the Rust trainer
     does (such words become [UNK] or pieces around the gap at inference).
  3. Vocabulary so far: the special tokens [PAD] [UNK] [CLS] [SEP] [MASK] (ids 0-4), the alphabet in code
     point order, then "##c" for each alphabet character c seen inside a word, in code point order.
  4. Merges: each word is a sequence of pieces (first character "c", the others "##c"). Repeatedly merge the
     adjacent pair (a, b) with the highest count (summed over words, times each word's count) into
     a + b without its "##" (so "##a" + "##b" = "##ab"), adding it to the vocabulary if new, until the
     vocabulary has `size` tokens or the best pair is seen fewer than min_frequency times. Ties go to the
     lexicographically smallest (a, b) (Python string order); the Rust trainer breaks them by piece ids that
     depend on hash-map order, so it is not deterministic. Pair counts are kept incrementally, with an index
     from each pair to the words holding it, and a lazy max-heap.
"""

import argparse
import collections
import heapq
import os
import sys
import time

from tools.data import datasets
from tools.formats import tokenizer_json
from tools.tokenizer import wordpiece

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PREFIX = "##"


def make_normalizer(cased):
    """The BertNormalizer of a cased (no lowercasing, accents kept) or uncased (BERT's default) vocabulary."""
    if cased:
        return wordpiece.BertNormalizer(lowercase=False, strip_accents=False)
    return wordpiece.BertNormalizer(lowercase=True, strip_accents=None)


def count_words(texts, normalizer):
    """Counter of the pre-tokenized words of the texts."""
    counts = collections.Counter()
    for text in texts:
        counts.update(wordpiece.pre_tokenize(normalizer.normalize(text)))
    return counts


def choose_alphabet(word_counts, min_frequency=2, limit_alphabet=None):
    """The kept characters, sorted by code point (see the module docstring, step 2)."""
    freq = collections.Counter()
    for word, n in word_counts.items():
        for ch in word:
            freq[ch] += n
    kept = [(-n, ord(ch), ch) for ch, n in freq.items() if n >= min_frequency]
    kept.sort()
    if limit_alphabet is not None:
        kept = kept[:limit_alphabet]
    return sorted(ch for _, _, ch in kept)


def _pairs(word):
    return collections.Counter(zip(word, word[1:]))


def train_wordpiece(word_counts, size, min_frequency=2, limit_alphabet=1000, specials=SPECIALS):
    """The vocabulary (tokens in id order) learned from {word: count}; see the module docstring."""
    alphabet = choose_alphabet(word_counts, min_frequency, limit_alphabet)
    in_alphabet = set(alphabet)
    vocab = list(specials)
    for ch in alphabet:
        if ch not in vocab:
            vocab.append(ch)
    inner = sorted({ch for w in word_counts for ch in w[1:] if ch in in_alphabet})
    vocab += [PREFIX + ch for ch in inner if PREFIX + ch not in vocab]
    if len(vocab) > size:
        raise ValueError("the alphabet alone needs %d tokens (specials, %d characters and their ## forms), more "
                         "than the size %d: raise --min-frequency or lower --limit-alphabet"
                         % (len(vocab), len(alphabet), size))
    ids = {t: i for i, t in enumerate(vocab)}

    # Words as lists of piece strings, in a fixed order (sorted words), with their counts.
    words, counts = [], []
    for w in sorted(word_counts):
        pieces = []
        for ch in w:
            if ch in in_alphabet:
                pieces.append(ch if not pieces else PREFIX + ch)
        if len(pieces) > 1:
            words.append(pieces)
            counts.append(word_counts[w])

    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for pair, k in _pairs(w).items():
            pair_count[pair] += k * counts[i]
            where[pair].add(i)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)

    while len(vocab) < size and heap:
        neg, a, b = heapq.heappop(heap)
        current = pair_count.get((a, b), 0)
        if -neg != current:  # stale entry: re-queue with the current count
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        if current < min_frequency or current <= 0:
            break
        new = a + (b[len(PREFIX):] if b.startswith(PREFIX) else b)
        if new not in ids:
            ids[new] = len(vocab)
            vocab.append(new)
        grown = set()  # pairs whose count rose: queued now; those that fell are fixed when popped
        for i in where.pop((a, b), ()):
            w = words[i]
            if not any(w[j] == a and w[j + 1] == b for j in range(len(w) - 1)):
                continue
            merged, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    merged.append(new)
                    j += 2
                else:
                    merged.append(w[j])
                    j += 1
            before, after = _pairs(w), _pairs(merged)
            for pair in before.keys() | after.keys():
                delta = after.get(pair, 0) - before.get(pair, 0)
                if delta:
                    pair_count[pair] += delta * counts[i]
                    if delta > 0:
                        where[pair].add(i)
                        grown.add(pair)
            words[i] = merged
        pair_count.pop((a, b), None)
        for pair in sorted(grown):
            heapq.heappush(heap, (-pair_count[pair], pair[0], pair[1]))
    return vocab


def coverage(word_counts, tokens):
    """(share of words, counted with repetition, without [UNK]; average pieces per word) under WordPiece."""
    model = wordpiece.WordPiece(tokens)
    total = known = pieces = 0
    for word, n in word_counts.items():
        p = model.tokenize_word(word)
        total += n
        if p is not None:
            known += n
            pieces += n * len(p)
        else:
            pieces += n
    return (known / total if total else 1.0), (pieces / total if total else 0.0)


def build(data_dir, out_dir, size=8000, cased=True, min_frequency=2, limit_alphabet=1000, datasets_=None,
          log=print):
    """Learns and writes a vocabulary folder; returns the tokens."""
    t0 = time.time()
    normalizer = make_normalizer(cased)
    train = count_words((t for _, _, t in datasets.iter_texts(data_dir, ("train",), datasets_)), normalizer)
    t1 = time.time()
    tokens = train_wordpiece(train, size, min_frequency, limit_alphabet)
    t2 = time.time()
    os.makedirs(out_dir, exist_ok=True)
    tokenizer_json.write_vocab_txt(tokens, os.path.join(out_dir, "vocab.txt"))
    tokenizer_json.write_tokenizer_files(tokens, out_dir, lowercase=not cased,
                                         strip_accents=False if cased else None)
    dev = count_words((t for _, _, t in datasets.iter_texts(data_dir, ("dev",), datasets_)), normalizer)
    n_alpha = sum(1 for t in tokens[len(SPECIALS):] if len(t) == 1)
    log("wrote %s: %d tokens (%s; %d special, %d characters, %d ## characters, %d merged), from %d train words "
        "(%d distinct)" % (out_dir, len(tokens), "cased" if cased else "uncased", len(SPECIALS), n_alpha,
                           sum(1 for t in tokens if t.startswith(PREFIX) and len(t) == len(PREFIX) + 1),
                           sum(1 for t in tokens[len(SPECIALS):] if len(t.replace(PREFIX, "", 1)) > 1),
                           sum(train.values()), len(train)))
    if len(tokens) < size:
        log("note: no pair is seen %d times any more: the vocabulary stops at %d tokens, short of %d"
            % (min_frequency, len(tokens), size))
    for name, wc in (("train", train), ("dev", dev)):
        known, per_word = coverage(wc, tokens)
        log("%-5s words: %.2f%% without [UNK] (%d words), %.3f pieces per word" % (name, 100 * known,
                                                                                   sum(wc.values()), per_word))
    log("time: %.1f s (words %.1f s, merges %.1f s)" % (time.time() - t0, t1 - t0, t2 - t1))
    return tokens


def main(argv=None):
    ap = argparse.ArgumentParser(prog="build_vocab.py", description="Learn a WordPiece vocabulary from the datasets.")
    ap.add_argument("-o", "--out", required=True, help="output folder (created)")
    ap.add_argument("--size", type=int, default=8000, help="vocabulary size (default 8000)")
    case = ap.add_mutually_exclusive_group()
    case.add_argument("--cased", dest="cased", action="store_true", default=True,
                      help="keep case and accents (default)")
    case.add_argument("--uncased", dest="cased", action="store_false", help="lowercase and strip accents")
    ap.add_argument("--data", default=datasets.DEFAULT_DATA_DIR, help="data folder (default ../shared/data)")
    ap.add_argument("--min-frequency", type=int, default=2,
                    help="least count of a merged pair and of an alphabet character (default 2)")
    ap.add_argument("--limit-alphabet", type=int, default=1000, help="most alphabet characters (default 1000)")
    ap.add_argument("--datasets", help="comma-separated subset of %s" % ",".join(datasets.DATASETS))
    args = ap.parse_args(argv)
    if args.size <= len(SPECIALS):
        ap.error("--size must be above %d" % len(SPECIALS))
    subset = args.datasets.split(",") if args.datasets else None
    try:
        build(args.data, args.out, args.size, args.cased, args.min_frequency, args.limit_alphabet, subset)
    except (datasets.DataError, ValueError) as e:
        print("build_vocab.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
