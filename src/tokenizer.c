/*
 * tokenizer.c — BERT's tokenizer as Hugging Face's `tokenizers` runs it, in one streaming pass:
 *
 *   raw UTF-8 ─► added tokens ([CLS], [SEP], … found verbatim in the raw text, never normalized)
 *             ─► BertNormalizer: clean_text (drop NUL, U+FFFD and Cc/Cf/Co/Cs except \t\n\r; map
 *                White_Space to ' '), CJK ideographs isolated, strip accents (NFD with canonical
 *                reordering, then drop Mn), lowercase (per code point)
 *             ─► BertPreTokenizer: split on whitespace, isolate each punctuation character
 *             ─► WordPiece: greedy longest match, continuation pieces ("##s", or "s" in llama.cpp's
 *                spelling where word-initial ones are "▁the"), [UNK] for a whole word that cannot be
 *                covered or is longer than max_input_chars_per_word
 *
 * Every normalized character carries the index of the original code point it came from, so each token
 * gets [start, end) offsets into the original text, in code points. Nothing is allocated: one word (at
 * most ET_MAX_WORD_CHARS characters; longer words are [UNK] without being held) lives on the stack.
 */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "unicode.h"

/* ---- the vocabulary ----------------------------------------------------------------------------- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

#define FNV_BASIS 2166136261u

/* A piece is hashed and compared as its full spelling: the prefix of its kind, then its bytes. */
static uint32_t hash_token(const et_vocab *v, int continuation, const uint8_t *p, uint32_t n) {
    const int k = continuation != 0;
    return fnv1a(fnv1a(FNV_BASIS, v->prefix[k], v->prefix_len[k]), p, n);
}

static int token_is(const et_vocab *v, uint32_t id, int continuation, const uint8_t *p, uint32_t n) {
    const int k = continuation != 0;
    const uint8_t *t = v->base + v->str_off[id];
    const uint32_t tn = v->str_len[id], pn = v->prefix_len[k];
    return tn == pn + n && memcmp(t, v->prefix[k], pn) == 0 && memcmp(t + pn, p, n) == 0;
}

/* Does spelling t[0 … n) start with prefix k, with something after it? */
static int has_prefix(const et_vocab *v, int k, const uint8_t *t, uint32_t n) {
    const uint32_t pn = v->prefix_len[k];
    return pn && n > pn && memcmp(t, v->prefix[k], pn) == 0;
}

/* In llama.cpp's spelling a continuation is spelled as it is, so a continuation's bytes can spell a
 * word-initial token ("▁a", when the text itself holds U+2581) or an added token: those are no
 * continuations (vocab.txt's spelling would need "##▁a"), and the lookup does not return them. */
int32_t et_vocab_find(const et_vocab *v, int continuation, const uint8_t *p, uint32_t n) {
    if (!v->table || n > v->max_bytes) return -1;
    for (uint32_t h = hash_token(v, continuation, p, n) & v->mask;; h = (h + 1) & v->mask) {
        const uint32_t e = v->table[h];
        if (!e) return -1;
        if (token_is(v, e - 1, continuation, p, n)) {
            const int bare = continuation && !v->prefix_len[1];
            return !bare || et_vocab_is_continuation(v, (int32_t)(e - 1)) ? (int32_t)(e - 1) : -1;
        }
    }
}

int32_t et_vocab_find_spelling(const et_vocab *v, const uint8_t *p, uint32_t n) {
    if (!v->table) return -1;
    for (uint32_t h = fnv1a(FNV_BASIS, p, n) & v->mask;; h = (h + 1) & v->mask) {
        const uint32_t e = v->table[h];
        if (!e) return -1;
        if (v->str_len[e - 1] == n && memcmp(v->base + v->str_off[e - 1], p, n) == 0) return (int32_t)(e - 1);
    }
}

int et_vocab_is_continuation(const et_vocab *v, int32_t id) {
    const uint8_t *t = v->base + v->str_off[id];
    const uint32_t n = v->str_len[id];
    if (v->prefix_len[1]) return has_prefix(v, 1, t, n);
    if (has_prefix(v, 0, t, n) || (n == v->prefix_len[0] && memcmp(t, v->prefix[0], n) == 0)) return 0;
    for (int32_t i = 0; i < v->n_specials; i++)
        if (v->specials[i] == id) return 0;
    return 1;
}

et_status et_vocab_init(et_vocab *v, uint32_t n, const uint8_t *base, const et_vocab_config *c, et_error *err) {
    memset(v, 0, sizeof *v);
    if (c->max_chars > ET_MAX_WORD_CHARS)
        return et__fail(err, ET_ERR_UNSUPPORTED, "tokenizer: max_input_chars_per_word %d is above this engine's %d",
                        c->max_chars, ET_MAX_WORD_CHARS);
    v->lowercase = c->lowercase, v->chinese = c->chinese, v->max_chars = c->max_chars;
    v->strip_accents = c->strip_accents < 0 ? c->lowercase : c->strip_accents; /* Hugging Face's default */
    v->cls = c->cls, v->sep = c->sep, v->unk = c->unk;
    const int k = c->spelling == ET_SPELLING_PHANTOM ? 0 : 1; /* which kind of piece has a prefix */
    const char *prefix = k == 0 ? "\xe2\x96\x81" : "##";      /* U+2581, or "##" */
    v->prefix_len[k] = (uint8_t)strlen(prefix);
    memcpy(v->prefix[k], prefix, v->prefix_len[k]);
    uint32_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    v->n = n;
    v->base = base;
    v->mask = cap - 1;
    v->str_off = malloc((size_t)n * sizeof *v->str_off + 1);
    v->str_len = malloc((size_t)n * sizeof *v->str_len + 1);
    v->table = calloc(cap, sizeof *v->table);
    if (!v->str_off || !v->str_len || !v->table) {
        et_vocab_free(v);
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "tokenizer: no memory for a vocabulary of %u tokens", n);
    }
    return ET_OK;
}

void et_vocab_set(et_vocab *v, uint32_t id, const char *text, uint32_t len) {
    const uint8_t *t = (const uint8_t *)text;
    v->str_off[id] = (uint32_t)(t - v->base);
    v->str_len[id] = len;
    const int k = has_prefix(v, 0, t, len) ? 0 : has_prefix(v, 1, t, len) ? 1 : -1;
    const uint32_t body = len - (k >= 0 ? v->prefix_len[k] : 0u);
    if (body > v->max_bytes) v->max_bytes = body;
    /* Insert by the full spelling; a repeated spelling maps to its last id. */
    for (uint32_t h = fnv1a(FNV_BASIS, t, len) & v->mask;; h = (h + 1) & v->mask) {
        const uint32_t e = v->table[h];
        if (!e || (v->str_len[e - 1] == len && memcmp(v->base + v->str_off[e - 1], t, len) == 0)) {
            v->table[h] = id + 1;
            break;
        }
    }
}

et_status et_vocab_add_special(et_vocab *v, int32_t id, et_error *err) {
    if (v->str_len[id] == 0) return ET_OK;
    if (v->n_specials == ET_MAX_SPECIALS)
        return et__fail(err, ET_ERR_UNSUPPORTED, "tokenizer: more than %d added tokens", ET_MAX_SPECIALS);
    v->specials[v->n_specials++] = id;
    const uint8_t b = v->base[v->str_off[id]];
    v->special_first[b >> 3] |= (uint8_t)(1u << (b & 7));
    return ET_OK;
}

void et_vocab_free(et_vocab *v) {
    free(v->str_off);
    free(v->str_len);
    free(v->table);
    v->str_off = v->str_len = v->table = NULL;
}

uint64_t et_vocab_bytes(const et_vocab *v) {
    return v->table ? (uint64_t)v->n * 8 + ((uint64_t)v->mask + 1) * 4 : 0;
}

/* ---- the streaming tokenizer ---------------------------------------------------------------------- */

/* Where content tokens go: a sequence (write after `base`, stop at `limit`) or windows of
 * `win` content tokens every `step` tokens, each framed by [CLS] … [SEP] in slots of `slot` tokens. */
typedef struct sink {
    int32_t *ids, *offsets; /* NULL: count only */
    int32_t capacity;       /* tokens the arrays hold */
    int32_t count;          /* content tokens produced */
    int32_t limit;          /* stop after this many content tokens */
    int32_t base;           /* sequence: index of the first content token */
    int32_t windows;        /* 1: window mode */
    int32_t win, step, slot;
} sink;

/* A canonical-reordering run longer than this is sorted in parts (only non-Mn marks of non-zero
 * class are held: Mn marks are dropped; 25 code points of Unicode 14 qualify). */
#define RUN_MAX 32

typedef struct tok {
    const et_vocab *v;
    sink *out;
    int stop;                              /* the limit is reached: no more tokens wanted */
    uint32_t cp[ET_MAX_WORD_CHARS];        /* the current word, normalized */
    int32_t at[ET_MAX_WORD_CHARS];         /* index of the original code point of each */
    int32_t n, w_start, w_end;             /* characters (may exceed what is held), original extent */
    uint32_t run_cp[RUN_MAX];
    int32_t run_at[RUN_MAX];
    uint8_t run_ccc[RUN_MAX];
    int32_t run_n;
    uint8_t bytes[4 * ET_MAX_WORD_CHARS];  /* the word in UTF-8 */
    uint32_t boff[ET_MAX_WORD_CHARS + 1];  /* byte offset of each character */
    int32_t piece_id[ET_MAX_WORD_CHARS], piece_from[ET_MAX_WORD_CHARS], piece_to[ET_MAX_WORD_CHARS];
} tok;

static void put(int32_t *arr, int64_t capacity, int64_t i, int32_t value) {
    if (arr && i < capacity) arr[i] = value;
}

static void emit(tok *t, int32_t id, int32_t start, int32_t end) {
    sink *s = t->out;
    if (t->stop) return;
    const int32_t k = s->count++;
    if (!s->windows) {
        put(s->ids, s->capacity, s->base + k, id);
        put(s->offsets, (int64_t)s->capacity * 2, 2 * (s->base + k), start);
        put(s->offsets, (int64_t)s->capacity * 2, 2 * (s->base + k) + 1, end);
    } else {
        /* Token k belongs to every window w with w·step <= k < w·step + win. */
        int32_t w = k < s->win ? 0 : (k - s->win) / s->step + 1;
        for (; (int64_t)w * s->step <= k; w++) {
            const int64_t i = (int64_t)w * s->slot + 1 + (k - (int64_t)w * s->step);
            put(s->ids, s->capacity, i, id);
            put(s->offsets, (int64_t)s->capacity * 2, 2 * i, start);
            put(s->offsets, (int64_t)s->capacity * 2, 2 * i + 1, end);
        }
    }
    if (s->count >= s->limit) t->stop = 1;
}

/* WordPiece over the word held in t; then the word is empty. */
static void end_word(tok *t) {
    const et_vocab *v = t->v;
    const int32_t n = t->n;
    if (n == 0) return;
    t->n = 0;
    if (n > v->max_chars) {
        emit(t, v->unk, t->w_start, t->w_end);
        return;
    }
    t->boff[0] = 0;
    for (int32_t i = 0; i < n; i++) t->boff[i + 1] = t->boff[i] + (uint32_t)et_utf8_encode(t->cp[i], t->bytes + t->boff[i]);
    int32_t np = 0;
    for (int32_t s = 0; s < n;) {
        int32_t e = n, id = -1;
        while (e > s && t->boff[e] - t->boff[s] > v->max_bytes) e--;
        for (; e > s; e--) /* the longest piece first */
            if ((id = et_vocab_find(v, s > 0, t->bytes + t->boff[s], t->boff[e] - t->boff[s])) >= 0) break;
        if (id < 0) {
            emit(t, v->unk, t->w_start, t->w_end);
            return;
        }
        t->piece_id[np] = id, t->piece_from[np] = s, t->piece_to[np] = e;
        np++;
        s = e;
    }
    for (int32_t p = 0; p < np; p++) {
        int32_t lo = t->at[t->piece_from[p]], hi = lo;
        for (int32_t i = t->piece_from[p]; i < t->piece_to[p]; i++) {
            lo = t->at[i] < lo ? t->at[i] : lo;
            hi = t->at[i] > hi ? t->at[i] : hi;
        }
        emit(t, t->piece_id[p], lo, hi + 1);
    }
}

static void word_push(tok *t, uint32_t c, int32_t at) {
    if (t->n == 0) t->w_start = at, t->w_end = at + 1;
    if (t->n < ET_MAX_WORD_CHARS) t->cp[t->n] = c, t->at[t->n] = at;
    t->n++;
    if (at < t->w_start) t->w_start = at;
    if (at + 1 > t->w_end) t->w_end = at + 1;
}

/* BertPreTokenizer. */
static void pretokenize(tok *t, uint32_t c, int32_t at) {
    if (c == ' ' || et_unicode_is_whitespace(c)) {
        end_word(t);
    } else if (et_unicode_is_bert_punct(c)) {
        end_word(t);
        word_push(t, c, at);
        end_word(t);
    } else {
        word_push(t, c, at);
    }
}

static void lowercase(tok *t, uint32_t c, int32_t at) {
    if (!t->v->lowercase) {
        pretokenize(t, c, at);
    } else if (c == 0x130) { /* İ → i + combining dot above */
        pretokenize(t, 'i', at);
        pretokenize(t, 0x307, at);
    } else {
        pretokenize(t, et_unicode_lower(c), at);
    }
}

/* Emits the pending run of combining characters in canonical order (a stable sort by class). */
static void flush_run(tok *t) {
    for (int32_t i = 1; i < t->run_n; i++) {
        const uint32_t c = t->run_cp[i];
        const int32_t a = t->run_at[i];
        const uint8_t k = t->run_ccc[i];
        int32_t j = i - 1;
        for (; j >= 0 && t->run_ccc[j] > k; j--) {
            t->run_cp[j + 1] = t->run_cp[j], t->run_at[j + 1] = t->run_at[j], t->run_ccc[j + 1] = t->run_ccc[j];
        }
        t->run_cp[j + 1] = c, t->run_at[j + 1] = a, t->run_ccc[j + 1] = k;
    }
    const int32_t n = t->run_n;
    t->run_n = 0;
    for (int32_t i = 0; i < n; i++) lowercase(t, t->run_cp[i], t->run_at[i]);
}

/* strip_accents: NFD, then drop Mn. Characters of class 0 (Mn or not) end a reordering run. */
static void strip_accents(tok *t, uint32_t c, int32_t at) {
    if (!t->v->strip_accents) {
        lowercase(t, c, at);
        return;
    }
    uint32_t d[4];
    const int k = et_unicode_nfd(c, d);
    for (int i = 0; i < k; i++) {
        const uint8_t ccc = et_unicode_ccc(d[i]);
        if (et_unicode_is_mn(d[i])) {
            if (!ccc) flush_run(t);
        } else if (!ccc) {
            flush_run(t);
            lowercase(t, d[i], at);
        } else {
            if (t->run_n == RUN_MAX) flush_run(t);
            t->run_cp[t->run_n] = d[i], t->run_at[t->run_n] = at, t->run_ccc[t->run_n] = ccc;
            t->run_n++;
        }
    }
}

/* clean_text and handle_chinese_chars. */
static void normalize(tok *t, uint32_t c, int32_t at) {
    if (c == 0 || c == 0xFFFD || (c != '\t' && c != '\n' && c != '\r' && et_unicode_is_control(c))) return;
    if (et_unicode_is_whitespace(c)) c = ' ';
    if (t->v->chinese && et_unicode_is_cjk(c)) {
        strip_accents(t, ' ', at);
        strip_accents(t, c, at);
        strip_accents(t, ' ', at);
    } else {
        strip_accents(t, c, at);
    }
}

/* The longest added token starting at s, or 0. */
static size_t match_special(const et_vocab *v, const uint8_t *s, size_t n, int32_t *id) {
    if (!(v->special_first[s[0] >> 3] & (1u << (s[0] & 7)))) return 0;
    size_t best = 0;
    for (int32_t i = 0; i < v->n_specials; i++) {
        const uint32_t len = v->str_len[v->specials[i]];
        if (len > best && len <= n && memcmp(v->base + v->str_off[v->specials[i]], s, len) == 0) {
            best = len;
            *id = v->specials[i];
        }
    }
    return best;
}

/* Checks the text is UTF-8 before anything is produced, so the answer never depends on truncation. */
static et_status check_utf8(const uint8_t *s, size_t n, const char *what, et_error *err) {
    for (size_t pos = 0; pos < n;) {
        uint32_t c;
        const size_t k = et_utf8_decode(s + pos, n - pos, &c);
        if (!k) return et__fail(err, ET_ERR_INPUT, "et_tokenize: %s is not valid UTF-8 at byte %zu (0x%02x)", what, pos, s[pos]);
        pos += k;
    }
    return ET_OK;
}

/* One step of the pass: the added token at s[*pos], or one code point; moves *pos and *at (code points) past it. */
static void tokenize_step(tok *t, const uint8_t *s, size_t n, size_t *pos, int32_t *at) {
    const et_vocab *v = t->v;
    int32_t id;
    const size_t special = v->n_specials ? match_special(v, s + *pos, n - *pos, &id) : 0;
    if (special) {
        flush_run(t);
        end_word(t);
        int32_t cps = 0;
        for (size_t i = 0; i < special; i++) cps += (s[*pos + i] & 0xC0u) != 0x80u;
        emit(t, id, *at, *at + cps);
        *pos += special;
        *at += cps;
        return;
    }
    uint32_t c;
    *pos += et_utf8_decode(s + *pos, n - *pos, &c); /* validated by check_utf8 */
    normalize(t, c, (*at)++);
}

static void tokenize_text(tok *t, const uint8_t *s, size_t n) {
    int32_t at = 0;
    for (size_t pos = 0; pos < n && !t->stop;) tokenize_step(t, s, n, &pos, &at);
    flush_run(t);
    end_word(t);
}

/* The number of content tokens of a text, up to `limit`. */
static int32_t count_tokens(tok *t, const uint8_t *s, size_t n, int32_t limit) {
    sink count = {.limit = limit};
    t->out = &count;
    t->stop = 0;
    tokenize_text(t, s, n);
    return count.count;
}

/* The template needs [CLS] and [SEP], WordPiece [UNK]. */
static et_status check_vocab(const et_vocab *v, et_error *err) {
    if (v->cls < 0 || v->sep < 0 || v->unk < 0)
        return et__fail(err, ET_ERR_UNSUPPORTED, "et_tokenize: the model's vocabulary lacks [CLS], [SEP] or [UNK] "
                        "(tokenizer.ggml.bos_token_id or cls_token_id, seperator_token_id, unknown_token_id)");
    return ET_OK;
}

et_status et_vocab_tokenize(const et_vocab *v, int32_t default_length, const char *text, size_t text_len,
                            const char *pair, size_t pair_len, int32_t max_length, int32_t *ids, int32_t *type_ids,
                            int32_t *offsets, int32_t capacity, int32_t *n_tokens, et_error *error) {
    et_status s = check_vocab(v, error);
    if (s) return s;
    if (!n_tokens || (!text && text_len) || (!pair && pair_len) || capacity < 0)
        return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize: NULL text or n_tokens, or a negative capacity");
    *n_tokens = 0;
    if (max_length == 0) max_length = default_length;
    const int32_t specials = pair ? 3 : 2;
    if (max_length < specials)
        return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize: max_length %d leaves no room for a token", max_length);
    const uint8_t *a = (const uint8_t *)(text ? text : ""), *b = (const uint8_t *)pair;
    if ((s = check_utf8(a, text_len, "the text", error)) || (pair && (s = check_utf8(b, pair_len, "the pair", error)))) return s;

    tok stack_tok, *t = &stack_tok;
    t->v = v, t->n = 0, t->run_n = 0;
    const int32_t room = max_length - specials;
    int32_t n1, n2 = 0;
    if (!pair) {
        n1 = room; /* a single text is cut at the limit: tokenize no further than needed */
    } else {
        /* Hugging Face's "longest_first" for pairs: the shorter keeps its length if it can, the longer
         * takes the rest; if both must be cut, each gets half (the second one the odd token). */
        int32_t l1 = count_tokens(t, a, text_len, INT32_MAX), l2 = count_tokens(t, b, pair_len, INT32_MAX);
        n1 = l1, n2 = l2;
        if (l1 + l2 > room) {
            const int swap = l1 > l2;
            int32_t lo = swap ? l2 : l1, hi;
            hi = lo > room ? lo : (lo > room - lo ? lo : room - lo);
            if (lo + hi > room) lo = room / 2, hi = lo + room % 2;
            n1 = swap ? hi : lo, n2 = swap ? lo : hi;
        }
    }
    /* Pass over the text(s), writing when there is room; the count is exact either way. */
    sink out = {.ids = ids, .offsets = offsets, .capacity = ids ? capacity : 0, .base = 1, .limit = n1};
    if (!ids) out.offsets = NULL;
    t->out = &out, t->stop = n1 == 0;
    tokenize_text(t, a, text_len);
    const int32_t len1 = out.count;
    int32_t len2 = 0;
    if (pair) {
        sink out2 = {.ids = out.ids, .offsets = out.offsets, .capacity = out.capacity, .base = len1 + 2, .limit = n2};
        t->out = &out2, t->stop = n2 == 0;
        tokenize_text(t, b, pair_len);
        len2 = out2.count;
    }
    const int32_t total = len1 + len2 + specials;
    *n_tokens = total;
    if (!ids) return ET_OK;
    if (total > capacity)
        return et__fail(error, ET_ERR_CAPACITY, "et_tokenize: %d tokens do not fit in a capacity of %d", total, capacity);
    ids[0] = v->cls, ids[len1 + 1] = v->sep;
    if (pair) ids[total - 1] = v->sep;
    if (offsets) {
        offsets[0] = offsets[1] = 0;
        offsets[2 * (len1 + 1)] = offsets[2 * (len1 + 1) + 1] = 0;
        if (pair) offsets[2 * (total - 1)] = offsets[2 * (total - 1) + 1] = 0;
    }
    if (type_ids)
        for (int32_t i = 0; i < total; i++) type_ids[i] = i < len1 + 2 ? 0 : 1;
    return ET_OK;
}

et_status et_vocab_tokenize_windows(const et_vocab *v, int32_t default_length, const char *text, size_t text_len,
                                    int32_t max_length, int32_t stride, int32_t *ids, int32_t *offsets,
                                    int32_t token_capacity, int32_t *lengths, int32_t *first_token,
                                    int32_t window_capacity, int32_t *n_tokens, int32_t *n_windows, et_error *error) {
    et_status s = check_vocab(v, error);
    if (s) return s;
    if (!n_tokens || !n_windows || (!text && text_len) || token_capacity < 0 || window_capacity < 0)
        return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize_windows: NULL text or counts, or a negative capacity");
    *n_tokens = *n_windows = 0;
    if (max_length == 0) max_length = default_length;
    const int32_t win = max_length - 2;
    if (win < 1 || stride < 0 || stride >= win)
        return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize_windows: max_length %d and stride %d leave no step "
                        "(need 0 <= stride < max_length - 2)", max_length, stride);
    const uint8_t *a = (const uint8_t *)(text ? text : "");
    if ((s = check_utf8(a, text_len, "the text", error))) return s;

    tok stack_tok, *t = &stack_tok;
    t->v = v, t->n = 0, t->run_n = 0, t->stop = 0;
    const int writing = ids && lengths;
    sink out = {.ids = writing ? ids : NULL, .offsets = writing ? offsets : NULL, .capacity = writing ? token_capacity : 0,
                .limit = INT32_MAX, .windows = 1, .win = win, .step = win - stride, .slot = max_length};
    t->out = &out;
    tokenize_text(t, a, text_len);

    /* Window w holds content tokens [w·step, min(w·step + win, T)); the last one reaches T. */
    const int32_t T = out.count, step = win - stride;
    const int32_t nw = T <= win ? 1 : 1 + (T - win + step - 1) / step;
    const int64_t total = (int64_t)(nw - 1) * max_length + (T - (int64_t)(nw - 1) * step) + 2;
    if (total > INT32_MAX) return et__fail(error, ET_ERR_CAPACITY, "et_tokenize_windows: the windows exceed 2^31 tokens");
    *n_tokens = (int32_t)total, *n_windows = nw;
    if (!writing) return ET_OK;
    if (total > token_capacity || nw > window_capacity)
        return et__fail(error, ET_ERR_CAPACITY, "et_tokenize_windows: %lld tokens in %d windows do not fit in %d tokens and %d windows",
                        (long long)total, nw, token_capacity, window_capacity);
    for (int32_t w = 0; w < nw; w++) {
        const int32_t first = w * step, len = (first + win < T ? win : T - first) + 2, at = w * max_length;
        ids[at] = v->cls, ids[at + len - 1] = v->sep;
        if (offsets) offsets[2 * at] = offsets[2 * at + 1] = offsets[2 * (at + len - 1)] = offsets[2 * (at + len - 1) + 1] = 0;
        lengths[w] = len;
        if (first_token) first_token[w] = first;
    }
    return ET_OK;
}

/* ---- a text a piece at a time ------------------------------------------------------------------------- */

et_status et_vocab_stream_begin(et_token_stream *st, const et_vocab *v, const char *text, size_t text_len, et_error *error) {
    et_status s = check_vocab(v, error);
    if (s) return s;
    if (!text && text_len) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize: NULL text of %zu bytes", text_len);
    const uint8_t *a = (const uint8_t *)(text ? text : "");
    if ((s = check_utf8(a, text_len, "the text", error))) return s;
    *st = (et_token_stream){.v = v, .text = a, .len = text_len, .pos = 0, .at = 0, .done = 0};
    return ET_OK;
}

/* The pass runs from the stream's position, a point where the tokenizer holds nothing (no word, no combining
 * run), and notes each such point it passes with the tokens made before it; once more than `room` tokens are
 * made it stops, and the stream resumes from the last point noted, where a whole-text pass holds nothing too:
 * the pieces give the whole text's tokens. Such points come at least once per word (after the whitespace or
 * punctuation that ends it, or an added token), so room for two words' pieces always moves on. */
int32_t et_vocab_stream_next(et_token_stream *st, int32_t *ids, int32_t *offsets, int32_t room) {
    if (st->done || room < 0) return 0;
    tok stack_tok, *t = &stack_tok;
    sink out = {.ids = ids, .offsets = offsets, .capacity = room, .limit = INT32_MAX};
    t->v = st->v, t->n = 0, t->run_n = 0, t->stop = 0, t->out = &out;
    size_t pos = st->pos, keep_pos = pos;
    int32_t at = st->at, keep_at = at, keep_n = 0;
    while (pos < st->len && out.count <= room) {
        tokenize_step(t, st->text, st->len, &pos, &at);
        if (out.count <= room && t->n == 0 && t->run_n == 0) keep_pos = pos, keep_at = at, keep_n = out.count;
    }
    if (pos >= st->len && out.count <= room) {
        flush_run(t);
        end_word(t);
        if (out.count <= room) keep_pos = pos, keep_at = at, keep_n = out.count;
    }
    st->pos = keep_pos, st->at = keep_at, st->done = keep_pos >= st->len;
    return keep_n;
}

const char *et_tokenizer_unicode_version(void) { return et_ucd_version; }
