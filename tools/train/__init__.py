"""train — edgetag's student models: small BERT encoders, pre-trained with masked-language modelling on the
datasets' train text, fine-tuned per task, temperature-calibrated and given an escalation threshold. Writes
Hugging Face-layout folders that python3 -m tools.convert turns into GGUF files.

Usage (from the repository root; Debian's python3 with numpy and torch, CPU, 2 threads):
    /usr/bin/python3 -m tools.train vocab                        # build/train/vocab/  (WordPiece, cased)
    /usr/bin/python3 -m tools.train pretrain                     # build/train/mlm/    (BertForMaskedLM)
    /usr/bin/python3 -m tools.train finetune --task intent-clinc # build/train/intent-clinc/
    /usr/bin/python3 -m tools.train calibrate --task intent-clinc
    /usr/bin/python3 -m tools.train all                          # all of the above, every task, in order
    /usr/bin/python3 -m tools.train ablate --task maint-ner      # fine-tune from scratch vs from the MLM
    /usr/bin/python3 -m tools.train cards                        # build/train/MODEL_CARDS.md (drafts)
Common options: --out DIR (default build/train), --data DIR (default ../shared/data), --seed N (default
1234), --tasks a,b (for all), --preset full|tiny (tiny: toy sizes and data subsets, for tests),
--epochs/--lr/--batch/--warmup/--dropout/--synth to override a stage's hyper-parameters (recorded in
provenance).

Tasks (tools/data/tasks.py): intent-clinc (sequence classification), maint-ner, pii-ner, ner-general (token
classification).

Model (every task; settings.PRESETS["full"]): BERT, hidden 256, 4 layers, 4 heads, FFN 1024, 256 positions,
2 token types, exact-erf GELU, LayerNorm eps 1e-12, vocabulary of VOCAB_SIZE cased WordPiece tokens learned
by tools/tokenizer/build_vocab.py from all datasets' train splits.

Modules, in the order of the data flow:
    settings    sizes, presets, per-stage hyper-parameters (HPARAMS), escalation rules, command-line overrides
    runtime     the run's process environment, log and files
    data        tokenization and labels, batching, masked-LM masking, the per-epoch train set
    pii         pii-ner's synthetic training texts
    model       the torch BERT with Hugging Face's parameter names, its config and folder, the optimiser
    vocab, pretrain, finetune, calibrate, cards    one stage each (see each module's docstring)
    pipeline    the stages all and ablate
    __main__    the command line
The dev measures come from tools/eval/scores.py, the calibration's logits from tools/eval/reference_bert.py.

Reproducibility: torch.manual_seed / numpy seeds per stage, a fixed data order (numpy RandomState permutations
of file order), torch.use_deterministic_algorithms(True), 2 threads: the same command on one machine gives
byte-identical model.safetensors. Hyper-parameters are fixed per stage in HPARAMS; --epochs etc. override.

Outputs under --out: vocab/, mlm/ (config.json, model.safetensors with the MLM head, vocab files, mlm.json),
and per task <task>/: config.json, model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json and
edgetag.json = {temperature, threshold, model_version, abstain_label (intent-clinc: "oos"), provenance,
metrics, curve, rule}.
"""
