"""The keys of an edgetag GGUF file of format 2 (models/FORMAT.md), in file order, written from one description
of a model; the converter (convert.py) and the upgrade of older files (relayout.py) both write through here, so
a file reads the same whichever made it.

Format 2 follows llama.cpp's BERT conventions wherever llama.cpp has one, so that llama.cpp loads the f32, f16 and
q8_0 files and tokenizes as we do:
  - the vocabulary in llama.cpp's converter's spelling: a word-initial piece after U+2581 ("\u2581the"), a
    continuation as it is ("s" for vocab.txt's "##s"), added tokens (unknown, control, user-defined types) as
    they are (to_llamacpp_spelling);
  - [CLS] as tokenizer.ggml.bos_token_id and [SEP] as eos_token_id too (what llama.cpp starts and ends a text
    with), besides seperator/cls/unknown/padding/mask_token_id;
  - tokenizer.ggml.normalizer.lowercase / strip_accents (bools; strip_accents resolved);
  - bert.classifier.output_labels, the labels (llama.cpp sizes cls.output by their count);
and keeps under edgetag.* only what llama.cpp has no key for.

A model description is a dict:
    name, file_type (int or None), hp {context_length, embedding_length, feed_forward_length, block_count,
    head_count, layer_norm_eps}, task, tokens (vocab.txt spelling), token_types, type_count,
    specials {"[UNK]": id, ...}, tok_opts {do_lower_case, strip_accents (-1/0/1), tokenize_chinese_chars,
    max_input_chars_per_word}, labels (list or None), temperature (or None), threshold (or None),
    abstain_label, aggregation, model_version, provenance (a JSON string), extra [(key, value type, element
    type, value)] (keys this module does not know, carried over by relayout.py; written last).
"""

from tools.convert.errors import ConvertError
from tools.formats import ggufio

FORMAT_VERSION = 2
PHANTOM = "\u2581"
# llama.cpp's pooling enum: 0 none, 1 mean, 2 cls, 3 last, 4 rank.
POOLING_BY_TASK = {"embedding": 1, "sequence_classification": 4, "token_classification": 0}
# tokenizer.ggml.token_type values; 2, 3 and 4 are added tokens, spelled as they are in both spellings.
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED = 1, 2, 3, 4, 5
ADDED_TYPES = (TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED)


def to_llamacpp_spelling(tokens, types):
    """vocab.txt's spelling -> llama.cpp's ("the" -> "\u2581the", "##s" -> "s"; added tokens unchanged).
    Raises ConvertError when two tokens would be spelled alike."""
    out, seen = [], {}
    for i, (t, ty) in enumerate(zip(tokens, types)):
        s = t if ty in ADDED_TYPES else t[2:] if len(t) > 2 and t.startswith("##") else PHANTOM + t
        if s in seen:
            raise ConvertError("tokens %d (%r) and %d (%r) are both spelled %r in llama.cpp's spelling"
                               % (seen[s], tokens[seen[s]], i, t, s))
        seen[s] = i
        out.append(s)
    return out


def from_llamacpp_spelling(tokens, types):
    """llama.cpp's spelling -> vocab.txt's. Its 2024 converter kept bracketed tokens ("[unused0]") as they are:
    those stay, as do added tokens."""
    out = []
    for t, ty in zip(tokens, types):
        if ty in ADDED_TYPES or (t.startswith("[") and t.endswith("]")):
            out.append(t)
        elif t.startswith(PHANTOM):
            out.append(t[len(PHANTOM):])
        else:
            out.append("##" + t)
    return out


def write_keys(w, m):
    """Adds the keys of model description m to GGUFWriter w, in FORMAT.md's order."""
    hp, specials, opts = m["hp"], m["specials"], m["tok_opts"]
    w.add_string("general.architecture", "bert")
    w.add_string("general.name", m["name"])
    w.add_u32("general.alignment", 32)
    if m.get("file_type") is not None:
        w.add_u32("general.file_type", m["file_type"])
    w.add_u32("bert.context_length", hp["context_length"])
    w.add_u32("bert.embedding_length", hp["embedding_length"])
    w.add_u32("bert.feed_forward_length", hp["feed_forward_length"])
    w.add_u32("bert.block_count", hp["block_count"])
    w.add_u32("bert.attention.head_count", hp["head_count"])
    w.add_f32("bert.attention.layer_norm_epsilon", hp["layer_norm_eps"])
    w.add_bool("bert.attention.causal", False)
    w.add_u32("bert.pooling_type", POOLING_BY_TASK[m["task"]])
    if m["labels"] is not None:
        w.add_array("bert.classifier.output_labels", m["labels"], ggufio.GGUF_TYPE_STRING)
    w.add_string("tokenizer.ggml.model", "bert")
    w.add_array("tokenizer.ggml.tokens", to_llamacpp_spelling(m["tokens"], m["token_types"]), ggufio.GGUF_TYPE_STRING)
    w.add_array("tokenizer.ggml.token_type", m["token_types"], ggufio.GGUF_TYPE_INT32)
    w.add_u32("tokenizer.ggml.token_type_count", m["type_count"])
    w.add_u32("tokenizer.ggml.bos_token_id", specials["[CLS]"])
    w.add_u32("tokenizer.ggml.eos_token_id", specials["[SEP]"])
    for token, key in (("[UNK]", "unknown"), ("[SEP]", "seperator"), ("[PAD]", "padding"),
                       ("[CLS]", "cls"), ("[MASK]", "mask")):
        if token in specials:
            w.add_u32("tokenizer.ggml.%s_token_id" % key, specials[token])
    lowercase = bool(opts["do_lower_case"])
    w.add_bool("tokenizer.ggml.normalizer.lowercase", lowercase)
    w.add_bool("tokenizer.ggml.normalizer.strip_accents",
               lowercase if opts["strip_accents"] == -1 else bool(opts["strip_accents"]))
    w.add_u32("edgetag.format_version", FORMAT_VERSION)
    w.add_string("edgetag.task", m["task"])
    w.add_string("edgetag.hidden_act", "gelu")
    w.add_bool("edgetag.tokenizer.tokenize_chinese_chars", opts["tokenize_chinese_chars"])
    w.add_u32("edgetag.tokenizer.max_input_chars_per_word", opts["max_input_chars_per_word"])
    if m.get("temperature") is not None:
        w.add_f32("edgetag.calibration.temperature", m["temperature"])
    if m.get("threshold") is not None:
        w.add_f32("edgetag.escalation.threshold", m["threshold"])
    if m.get("abstain_label") is not None:
        w.add_string("edgetag.escalation.abstain_label", m["abstain_label"])
    if m.get("aggregation") is not None:
        w.add_string("edgetag.tagging.aggregation", m["aggregation"])
    w.add_string("edgetag.model.version", m["model_version"])
    w.add_string("edgetag.provenance", m["provenance"])
    for key, vtype, elem, value in m.get("extra", ()):
        w.add_value(key, vtype, value, elem)
