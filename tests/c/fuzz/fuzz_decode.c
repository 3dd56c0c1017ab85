/*
 * fuzz_decode.c — libFuzzer target for span decoding and window merging on made-up numbers (make fuzz; seeds in
 * tests/fixtures/fuzz-corpus/decode).
 *
 * Input bytes become a token sequence over the tagger's vocabulary (words, "##" pieces, typed [SEP] and [UNK]),
 * increasing offsets, probabilities for its 5 labels, and a window layout. Asserts:
 *   - the streaming decoder (decode.c) gives what a direct implementation of Hugging Face's aggregation gives
 *     (the batch algorithm the engine used before it streamed: units first, then groups), for all five modes;
 *   - entities are ordered, non-overlapping, inside the offsets, with scores in [0, 1];
 *   - et_merge_windows takes each token's row from the window where it has the most context (earlier on ties),
 *     by a direct search over all windows, and refuses layouts that do not cover a text in order.
 */
#include <math.h>

#include "fuzz_common.h"
#include "model.h"
#include "tagging.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static et_model *model;
static uint8_t *model_buf;
enum { C = 5, MAX_N = 512 };

static int argmax5(const float *p) {
    int b = 0;
    for (int j = 1; j < C; j++)
        if (p[j] > p[b]) b = j;
    return b;
}
#define ARGMAX(p) argmax5(p)

/* The direct algorithm: units (tokens or words), then groups. */
static int32_t direct(const float *probs, const int32_t *ids, const int32_t *offs, int32_t n, int32_t agg, et_entity *out) {
    const et_model_info *in = &model->info;
    typedef struct { int32_t label; float score; int32_t start, end; } unit;
    static unit u[MAX_N];
    int32_t nu = 0;
    const char *unk;
    int32_t unk_len;
    et_model_token(model, in->unk_id, &unk, &unk_len);
#define SPECIAL(t) (ids[t] == in->cls_id || ids[t] == in->sep_id || ids[t] == in->pad_id || ids[t] == in->mask_id || \
                    (ids[t] == in->unk_id && offs[2 * (t) + 1] - offs[2 * (t)] == unk_len))
    for (int32_t t = 0; t < n;) {
        const float *p = probs + (size_t)t * C;
        if (SPECIAL(t)) { t++; continue; }
        if (agg <= ET_AGGREGATION_SIMPLE) {
            const int b = ARGMAX(p);
            u[nu++] = (unit){b, p[b], offs[2 * t], offs[2 * t + 1]};
            t++;
            continue;
        }
        int32_t e = t + 1;
        while (e < n && et_vocab_is_continuation(&model->vocab, ids[e]) && !SPECIAL(e)) e++;
        int best;
        float score;
        if (agg == ET_AGGREGATION_FIRST) best = ARGMAX(p), score = p[best];
        else if (agg == ET_AGGREGATION_MAX) {
            int32_t top = t;
            for (int32_t i = t + 1; i < e; i++) if (probs[(size_t)i * C + ARGMAX(probs + (size_t)i * C)] > probs[(size_t)top * C + ARGMAX(probs + (size_t)top * C)]) top = i;
            best = ARGMAX(probs + (size_t)top * C), score = probs[(size_t)top * C + best];
        } else {
            best = 0, score = -1.0f;
            for (int j = 0; j < C; j++) {
                double sum = 0;
                for (int32_t i = t; i < e; i++) sum += probs[(size_t)i * C + j];
                const float mean = (float)(sum / (e - t));
                if (mean > score) score = mean, best = j;
            }
        }
        u[nu++] = (unit){best, score, offs[2 * t], offs[2 * e - 1]};
        t = e;
    }
    int32_t ne = 0;
    for (int32_t i = 0; i < nu;) {
        const int32_t type = model->label_type[u[i].label];
        if (agg == ET_AGGREGATION_NONE) {
            if (type >= 0) out[ne++] = (et_entity){type, u[i].label, u[i].score, u[i].start, u[i].end};
            i++;
            continue;
        }
        int32_t j = i + 1;
        double sum = u[i].score;
        while (j < nu && model->label_type[u[j].label] == type && model->label_bi[u[j].label] != 'B') sum += u[j++].score;
        if (type >= 0) out[ne++] = (et_entity){type, -1, (float)(sum / (j - i)), u[i].start, u[j - 1].end};
        i = j;
    }
    return ne;
}

static void check_merge(const uint8_t *data, size_t size) {
    /* A layout: window lengths and first tokens from the bytes; valid layouts cover [0, n) in order. */
    static float rows[MAX_N * 8 * 2], out[MAX_N * 2], want[MAX_N * 2];
    int32_t lengths[64], first[64], nw = 0, total_rows = 0;
    for (size_t i = 0; i + 1 < size && nw < 64 && total_rows < MAX_N * 4; i += 2, nw++) {
        lengths[nw] = 2 + data[i] % 12;
        first[nw] = nw == 0 ? 0 : first[nw - 1] + (data[i + 1] % 16 == 15 ? lengths[nw - 1] : data[i + 1] % (lengths[nw - 1] - 1) + (data[i + 1] & 16 ? 1 : 0));
        total_rows += lengths[nw];
    }
    if (nw == 0) return;
    const int32_t n = first[nw - 1] + lengths[nw - 1] - 2;
    for (int32_t r = 0; r < total_rows; r++) rows[2 * r] = (float)r, rows[2 * r + 1] = -(float)r;
    int valid = first[0] == 0;
    for (int32_t w = 1; w < nw; w++) valid &= first[w] > first[w - 1] && first[w] <= first[w - 1] + lengths[w - 1] - 2;
    if (n < 0 || n > MAX_N) return;
    const et_status s = et_merge_windows(rows, 2, lengths, first, nw, out, n);
    if (!valid) {
        REQUIRE(s == ET_ERR_INVALID_ARGUMENT);
        return;
    }
    REQUIRE(s == ET_OK);
    for (int32_t t = 0; t < n; t++) {
        int32_t best_row = -1, best_score = -1;
        for (int32_t w = 0, row0 = 0; w < nw; row0 += lengths[w], w++) {
            const int32_t lo = first[w], hi = first[w] + lengths[w] - 2;
            if (t < lo || t >= hi) continue;
            const int32_t sc = t - lo < hi - 1 - t ? t - lo : hi - 1 - t;
            if (sc > best_score) best_score = sc, best_row = row0 + 1 + (t - lo);
        }
        REQUIRE(best_row >= 0);
        want[2 * t] = rows[2 * best_row], want[2 * t + 1] = rows[2 * best_row + 1];
    }
    REQUIRE(!memcmp(out, want, (size_t)n * 2 * sizeof *out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 4 * MAX_N) return 0;
    if (!model) {
        tl_model_spec s = fuzz_tagger_spec(32);
        const size_t n = tl_build_model(&s, &model_buf, NULL);
        REQUIRE(et_model_load_from_buffer(model_buf, n, NULL, &model, NULL) == ET_OK);
    }
    const int32_t n = (int32_t)(size / 4);
    static float probs[MAX_N * C];
    static int32_t ids[MAX_N], offs[2 * MAX_N];
    static et_entity want[MAX_N + 1], got[MAX_N + 1];
    static double scratch[MAX_N * 2 + C];
    int32_t at = 0;
    const int32_t n_vocab = model->info.n_vocab;
    for (int32_t t = 0; t < n; t++) {
        const uint8_t *b = data + 4 * t;
        ids[t] = b[0] % 7 == 0 ? (b[0] & 8 ? model->info.sep_id : model->info.unk_id) : 5 + b[0] % (n_vocab - 5);
        const int32_t len = ids[t] == model->info.unk_id && (b[1] & 1) ? 5 : 1 + b[1] % 4; /* a typed "[UNK]" is 5 long */
        at += b[1] >> 7;
        offs[2 * t] = at, offs[2 * t + 1] = at + len;
        at += len;
        float sum = 0;
        for (int j = 0; j < C; j++) sum += probs[t * C + j] = (float)((b[2] * (j + 1) + b[3] * (C - j)) % 97) + 0.5f;
        for (int j = 0; j < C; j++) probs[t * C + j] /= sum;
    }
    for (int32_t agg = ET_AGGREGATION_NONE; agg <= ET_AGGREGATION_MAX; agg++) {
        const int32_t nw = direct(probs, ids, offs, n, agg, want);
        const int32_t ng = et__decode_entities(model, probs, ids, offs, n, agg, scratch, got);
        REQUIRE(nw == ng);
        for (int32_t i = 0; i < ng; i++) {
            REQUIRE(got[i].type == want[i].type && got[i].label == want[i].label && got[i].start == want[i].start &&
                    got[i].end == want[i].end && got[i].score == want[i].score);
            REQUIRE(got[i].start < got[i].end && (i == 0 || got[i].start >= got[i - 1].end));
            REQUIRE(got[i].score >= 0 && got[i].score <= 1.0001f);
        }
    }
    check_merge(data, size);
    return 0;
}
