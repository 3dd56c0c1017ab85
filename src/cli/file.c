/*
 * file.c — the commands on model files: inspect (metadata and the tensor table) and quantize (an int8 or
 * Q8_0 copy, through et_quantize).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *task_name(int32_t task) {
    switch (task) {
    case ET_TASK_SEQUENCE_CLASSIFICATION: return "sequence_classification";
    case ET_TASK_TOKEN_CLASSIFICATION: return "token_classification";
    default: return "embedding";
    }
}

int cli_inspect(int argc, char **argv) {
    if (argc != 3) return cli_usage("inspect takes one model file");
    et_model *m = cli_open_model(argv[2]);
    if (!m) return 1;
    et_model_info in;
    et_model_get_info(m, &in);
    printf("model:        %s (version %s)\n", in.name[0] ? in.name : "(unnamed)", in.version);
    printf("architecture: bert\ntask:         %s\n", task_name(in.task));
    printf("hyper-parameters: layers %d, hidden %d, heads %d (head size %d), ffn %d, positions %d, vocab %d, "
           "token types %d, layer_norm_eps %g\n",
           in.n_layer, in.n_embd, in.n_head, in.n_head_dim, in.n_ff, in.n_ctx, in.n_vocab, in.n_token_types,
           (double)in.layer_norm_eps);
    printf("pooler:       %s\n", in.has_pooler ? "yes" : "no");
    printf("labels (%d):", in.n_labels);
    for (int i = 0; i < in.n_labels; i++) printf("%s %s", i ? "," : "", et_model_label(m, i));
    if (in.task == ET_TASK_TOKEN_CLASSIFICATION) {
        static const char *const modes[] = {"none", "simple", "first", "average", "max"};
        printf("\nentity types (%d):", in.n_entity_types);
        for (int i = 0; i < in.n_entity_types; i++) printf("%s %s", i ? "," : "", et_model_entity_type(m, i));
        printf("\naggregation:  %s (the default of extract)", modes[in.aggregation]);
    }
    printf("\ncalibration:  temperature %g, escalation threshold ", (double)in.temperature);
    if (isnan(in.threshold)) printf("none");
    else printf("%g", (double)in.threshold);
    if (in.abstain_label >= 0) printf(", abstain label %s", et_model_label(m, in.abstain_label));
    printf("\n");
    printf("special ids:  [CLS] %d, [SEP] %d, [PAD] %d, [UNK] %d, [MASK] %d\n", in.cls_id, in.sep_id, in.pad_id,
           in.unk_id, in.mask_id);
    printf("memory:       %.2f MB of weights (%d matrices int8", in.weights_bytes / 1e6, in.int8_matrices);
    if (in.q4_matrices) printf(", %d Q4_0", in.q4_matrices);
    printf("), %.2f MB owned by the model\n", in.owned_bytes / 1e6);
    printf("tensors (%d):\n  %-34s %-5s %-18s %12s %12s\n", in.n_tensors, "name", "type", "ne", "offset", "bytes");
    for (int i = 0; i < in.n_tensors; i++) {
        et_tensor_info t;
        et_model_tensor_info(m, i, &t);
        char shape[64];
        int k = snprintf(shape, sizeof shape, "[%d", t.ne[0]);
        for (int d = 1; d < t.n_dims && k > 0 && k < (int)sizeof shape; d++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, ", %d", t.ne[d]);
        snprintf(shape + k, sizeof shape - (size_t)k, "]");
        printf("  %-34s %-5s %-18s %12u %12u\n", t.name, et_type_name(t.type), shape, t.offset, t.n_bytes);
    }
    et_model_free(m);
    return 0;
}

/* quantize: IN → OUT with int8 weights (et_quantize). */
int cli_quantize(int argc, char **argv) {
    if (argc != 6 || strcmp(argv[4], "--type")) return cli_usage("quantize takes IN.gguf OUT.gguf --type i8|q8_0|q4_0");
    const int32_t type = !strcmp(argv[5], "i8") ? ET_QUANT_I8 : !strcmp(argv[5], "q8_0") ? ET_QUANT_Q8_0
                         : !strcmp(argv[5], "q4_0") ? ET_QUANT_Q4_0 : 0;
    if (!type) return cli_usage("--type is i8, q8_0 or q4_0");
    FILE *fp = fopen(argv[2], "rb");
    if (!fp) {
        fprintf(stderr, "edgetag: cannot open '%s'\n", argv[2]);
        return 1;
    }
    char magic[4];
    if (fread(magic, 1, 4, fp) != 4 || memcmp(magic, "GGUF", 4) || fseek(fp, 0, SEEK_SET)) { /* before reading it all */
        fprintf(stderr, "edgetag: '%s' is not a GGUF file (bad magic)\n", argv[2]);
        fclose(fp);
        return 1;
    }
    size_t cap = 1 << 20, n = 0, got;
    char *in = malloc(cap);
    while (in && (got = fread(in + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(in, cap *= 2);
            if (!bigger) free(in);
            in = bigger;
        }
    }
    fclose(fp);
    if (!in) {
        fprintf(stderr, "edgetag: no memory to read '%s'\n", argv[2]);
        return 1;
    }
    void *out = NULL;
    size_t out_n = 0;
    et_error err;
    int rc = 1;
    if (et_quantize(in, n, type, &out, &out_n, &err)) {
        fprintf(stderr, "edgetag: %s: %s\n", argv[2], err.message);
    } else if (!(fp = fopen(argv[3], "wb")) || fwrite(out, 1, out_n, fp) != out_n || fclose(fp) != 0) {
        fprintf(stderr, "edgetag: cannot write '%s'\n", argv[3]);
    } else {
        fprintf(stderr, "edgetag: wrote %s (%s): %.1f MB from %.1f MB\n", argv[3], argv[5], out_n / 1e6, n / 1e6);
        rc = 0;
    }
    free(in);
    free(out);
    return rc;
}
