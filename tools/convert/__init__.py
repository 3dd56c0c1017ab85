"""tools.convert — turn a Hugging Face BERT checkpoint folder into an edgetag GGUF v3 file of format 2
(models/FORMAT.md): llama.cpp's BERT conventions wherever llama.cpp has one (its vocabulary spelling, bos/eos ids,
normalizer keys, bert.classifier.output_labels), so llama.cpp loads the f32 and f16 files (and the q8_0 ones of
`edgetag quantize`); our own keys under edgetag.*.

Usage (from the repository root):
    /usr/bin/python3 -m tools.convert HF_DIR -o OUT.gguf [--outtype f32|f16]
        [--task auto|embedding|sequence_classification|token_classification]
        [--model-version V] [--name NAME] [--aggregation none|simple|first|average|max] [--abstain-label NAME]

Input folder:
    config.json                      model_type "bert"; architectures[0] picks the task (--task auto)
    model.safetensors                weights; or model.safetensors.index.json + shards;
    pytorch_model.bin                ... or this (needs torch)
    vocab.txt or tokenizer.json      WordPiece vocabulary (tokenizer.json wins when both exist)
    tokenizer_config.json            optional: do_lower_case, strip_accents, tokenize_chinese_chars
    edgetag.json                     optional (python3 -m tools.train writes it): {"temperature", "threshold",
                                     "model_version", "provenance", "aggregation", "abstain_label"} ->
                                     edgetag.calibration.temperature (f32), edgetag.escalation.threshold (f32,
                                     when not null), edgetag.model.version (unless --model-version is given),
                                     the provenance's keys merged into edgetag.provenance (the converter's own
                                     keys win), edgetag.tagging.aggregation (unless --aggregation is given)
                                     and edgetag.escalation.abstain_label (one of the labels; unless
                                     --abstain-label is given).
                                     Without the file the output is what it always was.

Tasks: BertModel, BertForMaskedLM, BertForPreTraining -> embedding (MLM/NSP heads dropped);
BertForSequenceClassification -> sequence_classification; BertForTokenClassification ->
token_classification. --outtype f16 stores the 2-D tensors as F16 but for position_embd and token_types, which
stay F32 as in llama.cpp's files (llama.cpp cannot add an F16 token_types row); 1-D tensors are always F32.

Every user error (missing file, bad config, wrong shape, unknown tensor, ...) ends the program with exit
status 1 and one line "convert.py: error: ..." on stderr. Notes (dropped heads) also go to stderr.
Same input folder and options -> byte-identical output.

Modules: checkpoint (config.json, weights, labels, edgetag.json), vocab (the vocabulary and the tokenizer
options), tensors (Hugging Face names -> GGUF names, the expected shapes), layout (the keys of format 2 from a
model's description, and the two vocabulary spellings), convert (the GGUF file), errors, __main__ (the command
line), relayout (`python3 -m tools.convert.relayout IN OUT`: an edgetag file of format 1 or 2 rewritten in
format 2, tensors unchanged).
"""
