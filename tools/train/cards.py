"""Stage cards: draft model cards (OUT/MODEL_CARDS.md, the draft of models/README.md) from each trained
folder's edgetag.json and config.json, the masked LM's mlm.json and the ablations' results: data and
licence, recipe, dev measures, calibration and escalation curve, intended use and limits."""

import os

from tools.data import tasks as tasks_mod
from tools.eval import metrics
from tools.train.data import read_vocab
from tools.train.runtime import log, read_json


# What a card says of each task that its files do not: title, data and licence, intended use, limits.
CARD_INFO = {
    "intent-clinc": {
        "title": "intent-clinc: intent classification with out-of-scope detection",
        "data": "CLINC150 (\"oos-eval\", data_full.json; github.com/clinc/oos-eval at 828f809): train = train + "
                "oos_train + the out-of-scope train requests of data_oos_plus.json it lacks (15,000 in-scope "
                "utterances, 100 per intent, + 251 out-of-scope), 30% of them re-cased each epoch as people type; "
                "dev = val + oos_val (3,000 + 100). Licence CC BY 3.0. Attribution: Stefan Larson, Anish Mahendran, Joseph "
                "J. Peper, Christopher Clarke, Andrew Lee, Parker Hill, Jonathan K. Kummerfeld, Kevin Leach, "
                "Michael A. Laurenzano, Lingjia Tang, Jason Mars. 2019. An Evaluation Dataset for Intent "
                "Classification and Out-of-Scope Prediction. EMNLP-IJCNLP 2019.",
        "use": "Routing short assistant requests to one of 150 intents in 10 domains (banking, credit cards, "
               "travel, home, auto, kitchen, utility, work, small talk, meta), on the client, with escalation "
               "to a cloud model for out-of-scope or low-confidence requests.",
        "limits": "CLINC150 is short (mostly under 15 words), lower-case English assistant queries written by "
                  "crowd workers; punctuation, casing, other languages, long or multi-intent texts are out of "
                  "its distribution. Only 100 out-of-scope training examples: out-of-scope detection leans on the "
                  "escalation threshold. The threshold is tuned on the dev split, which is also where the best "
                  "epoch was picked: expect somewhat lower figures on the held-out test split. Trials: lr 3e-4 gave dev accuracy 0.8713, "
                  "lr 6e-4 (shipped) 0.8787.",
    },
    "maint-ner": {
        "title": "maint-ner: entities in maintenance work orders",
        "data": "MaintIE gold_release.json (github.com/nlp-tlp/maintie at 825e771), flattened to outermost "
                "spans with top-level types (maintie_gold_{train,dev}.bio made by derive_bio.py; records i % 10 "
                "== 8 are dev, == 9 held-out test): 862 train and 107 dev texts. Licence MIT (copyright the "
                "MaintIE authors, UWA NLP-TLP group). Attribution: Tyler K. Bikaun, Tim French, Michael "
                "Stewart, Wei Liu, Melinda Hodkiewicz. 2024. MaintIE: A Fine-Grained Annotation Schema and "
                "Benchmark for Information Extraction from Maintenance Short Texts. LREC-COLING 2024.",
        "use": "Tagging PhysicalObject, Activity, State, Process and Property mentions in terse field notes "
               "and work orders on the client.",
        "limits": "MaintIE texts are terse, lower-case technical notes (\"<id> replace hydraulic pump seal\"), "
                  "about 5 words on average, from one mining-industry source; nested entities were flattened to "
                  "the outermost span; Property has only 24 training entities. The training set is small (862 "
                  "texts): per-type figures on 107 dev texts are noisy.",
    },
    "pii-ner": {
        "title": "pii-ner: PII spans for redaction before escalation",
        "data": "Every epoch a fresh mix (tools/train/pii_mix.py), from train splits only: Presidio-research "
                "synth_dataset_v2.json (github.com/microsoft/presidio-research at 7622dec; 1,173 train texts of "
                "the 209 templates split by template, template_id % 10 == 8 dev, == 9 held out; MIT, Copyright (c) "
                "Microsoft Corporation; the fake identities partly from Fake Name Generator, CC BY-SA 3.0 US) and "
                "as many joined, value-swapped copies; 7,000 texts generated from carrier clauses, forms and "
                "e-mails written for this project, filled with fake values of 50 locales (Debian "
                "python3-fake-factory, MIT) and strung together with PII-free MaintIE work orders and CLINC150 "
                "requests; 2,500 Broad Twitter Corpus and WNUT-17 train sentences (CC BY 4.0) with their persons, "
                "places and organisations under Presidio's names; 862 MaintIE work orders (MIT) and 1,200 "
                "CLINC150 requests (CC BY 3.0) untagged.",
        "use": "Finding PII (names, addresses, phone numbers, e-mails, card numbers, ...) in a text on the client "
               "so that it is replaced by placeholders before the text is escalated, beside patternRedactor().",
        "limits": "English text; names in scripts the 8,000-token vocabulary lacks (Chinese, Japanese, Arabic, "
                  "Hebrew, Thai, Korean) become one [UNK] word, found from their context. Dates are tagged "
                  "when they are calendar dates; weekdays and clock times are not. Presidio's dev templates "
                  "are unseen and few (162 texts): per-type figures are noisy. The realistic set "
                  "(tests/fixtures/pii-eval/) was written by the same team that wrote the carrier clauses, "
                  "though never trained on: real users' text will differ from both.",
    },
    "ner-general": {
        "title": "ner-general: persons, organisations and locations in social text",
        "data": "Broad Twitter Corpus (github.com/GateNLP/broad_twitter_corpus at 0c45ef7; 6,338 train, 1,000 "
                "dev tweets; CC BY 4.0; Leon Derczynski, Kalina Bontcheva, Ian Roberts. 2016. Broad Twitter "
                "Corpus: A Diverse Named Entity Recognition Resource. COLING 2016) and WNUT-17 "
                "(github.com/leondz/emerging_entities_17 at e52a2d2; 3,394 train, 1,009 dev; CC BY 4.0; Leon "
                "Derczynski, Eric Nichols, Marieke van Erp, Nut Limsopatham. 2017. Results of the WNUT2017 Shared "
                "Task on Novel and Emerging Entity Recognition. W-NUT at EMNLP). WNUT person -> PER, location -> "
                "LOC, corporation and group -> ORG, product and creative-work dropped; BTC's \"@\" of a mention "
                "is left out of the entity.",
        "use": "General-purpose PER / ORG / LOC tagging of short informal English text on the client.",
        "limits": "Tweets and web comments from 2009-2017 with real user handles; WNUT's entities are rare and "
                  "emerging by design, so recall on unseen names is low; BTC tags @-mentions as entities, WNUT "
                  "mostly does not, so handles are tagged inconsistently.",
    },
}


def card(args, name):
    """The Markdown card of the task folder OUT/name."""
    folder = os.path.join(args.out, name)
    edge = read_json(os.path.join(folder, "edgetag.json"))
    config = read_json(os.path.join(folder, "config.json"))
    prov = edge["provenance"]
    task = tasks_mod.get(name, args.data)
    info = CARD_INFO[name]
    before = edge["metrics"]["dev_before_calibration"]
    after = edge["metrics"]["dev_after_calibration"]
    L = []
    L.append("## %s\n" % info["title"])
    L.append("- **Model version**: `%s`; task `%s`; %d labels (%s)." % (
        edge["model_version"], task.kind, len(task.labels),
        "150 intents in sorted order, then `oos`" if name == "intent-clinc" else ", ".join(task.labels)))
    L.append("- **Architecture**: BERT encoder, hidden %d, %d layers, %d heads, FFN %d, %d positions, exact-erf "
             "GELU, LayerNorm eps 1e-12, %s; cased WordPiece vocabulary of %d tokens shared by every edgetag "
             "student model. %d parameters (%.1f MB as f32)." % (
                 config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
                 config["intermediate_size"], config["max_position_embeddings"],
                 "pooler (dense + tanh on [CLS]) + classifier" if task.kind == "sequence_classification"
                 else "per-token classifier", config["vocab_size"], prov["parameters"], prov["parameters"] * 4 / 1e6))
    L.append("- **Data and licence**: %s" % info["data"])
    pre = prov.get("pretrain") or {}
    recipe = ("- **Training**: %s; fine-tuned %d epochs max (best dev epoch %d kept), AdamW lr %g, batch %d, "
              "warm-up %g, linear decay, dropout %g, weight decay %g, max %d tokens; seed %d; fine-tune %.0f s "
              "on 2 CPU threads (torch %s)." % (
                  ("from the shared masked-LM pre-training (%s steps, %.0f s: every dataset's train text, 15%% "
                   "masking 80/10/10, lr %g, batch %d)" % (pre.get("steps"), pre.get("seconds") or 0,
                                                            (pre.get("hparams") or {}).get("lr", 0),
                                                            (pre.get("hparams") or {}).get("batch", 0)))
                  if prov["init"] == "mlm" else "from scratch",
                  prov["hparams"]["epochs"], prov["best_epoch"], prov["hparams"]["lr"], prov["hparams"]["batch"],
                  prov["hparams"]["warmup"], prov["hparams"]["dropout"], prov["hparams"]["weight_decay"],
                  prov["max_length"], prov["seed"], prov["finetune_seconds"], prov["torch"]))
    if prov["hparams"].get("synth"):
        recipe += (" Train data: the train split plus %g x its size synthetic texts drawn afresh every epoch "
                   "(augment_pii: joined train texts with swapped or format-generated values, and code-written "
                   "carrier sentences for US_SSN / US_DRIVER_LICENSE; no dev or test text)." % prov["hparams"]["synth"])
    L.append(recipe)
    L.append("- **Reproduce**: `%s` (or `python3 -m tools.train all`), then `python3 -m tools.train calibrate --task %s`." % (
        "`, `".join(prov["commands"]), name))
    if task.kind == "sequence_classification":
        at = after["at_threshold"]
        L.append("- **Dev metrics (f32, PyTorch reference forward)**: accuracy %.4f; in-scope accuracy %.4f; "
                 "out-of-scope recall %.3f, precision %.3f (label `oos` alone, no threshold). NLL %.4f -> %.4f and "
                 "ECE %.4f -> %.4f after calibration." % (
                     before["accuracy"], before["in_scope_accuracy"], before["oos_recall"], before["oos_precision"],
                     before["nll"], after["nll"], before["ece"], after["ece"]))
        L.append("- **At the shipped threshold** (escalate when the calibrated top probability < threshold or the "
                 "label is `oos`): %.1f%% of dev escalated; oos recall %.3f, oos precision %.3f; in-scope accuracy "
                 "counting escalations as not answered locally %.4f; accuracy of the cases kept local %.4f." % (
                     100 * at["escalation_rate"], at["oos_recall"], at["oos_precision"], at["in_scope_accuracy"],
                     at["local_accuracy"]))
    else:
        wl = (" word-level (first-subword) seqeval-strict F1 %.4f;" % before["word_entity_f1"]
              if "word_entity_f1" in before else "")
        L.append("- **Dev metrics (f32, PyTorch reference forward)**: seqeval-strict entity F1 over subword tags "
                 "%.4f (P %.4f, R %.4f);%s character-span F1 %.4f (P %.4f, R %.4f); token accuracy %.4f. Token NLL "
                 "%.4f -> %.4f and ECE %.4f -> %.4f after calibration." % (
                     before["entity_f1"], before["entity_precision"], before["entity_recall"], wl, before["span_f1"],
                     before["span_precision"], before["span_recall"], before["token_accuracy"], before["nll"],
                     after["nll"], before["ece"], after["ece"]))
        if "span_f1_first_subword" in before:
            L.append("- **With first-subword decoding** (each ## continuation piece takes the tag of the piece before "
                     "it, B-X -> I-X; an engine aggregation choice): character-span F1 %.4f (P %.4f, R %.4f)." % (
                         before["span_f1_first_subword"], before["span_precision_first_subword"],
                         before["span_recall_first_subword"]))
        key = "per_type_word_entity" if "per_type_word_entity" in before else "per_type_entity"
        L.append("\n  | type | dev support | entity P | entity R | entity F1 | span F1 |")
        L.append("  |---|---|---|---|---|---|")
        for t in task.types:
            e = before[key].get(t, {})
            sp = before["per_type_span"].get(t, {})
            L.append("  | %s | %d | %.3f | %.3f | %.3f | %.3f |" % (t, sp.get("support", e.get("support", 0)),
                                                                  e.get("precision", 0), e.get("recall", 0),
                                                                  e.get("f1", 0), sp.get("f1", 0)))
        at = after["at_threshold"]
        L.append("\n- **At the shipped threshold** (a text escalates when one of its predicted entities scores "
                 "below it): %.1f%% of dev texts escalated; span F1 of the texts kept local %.4f." % (
                     100 * at["escalation_rate"], at["local_f1"]))
    L.append("- **Calibration**: temperature %.4f (dev NLL, LBFGS over log T); escalation threshold %.4f. Rule: %s." % (
        edge["temperature"], edge["threshold"], edge["rule"]))
    L.append("\n  Escalation curve on dev (calibrated; a subset of the %d thresholds, all in edgetag.json's "
             "`curve`):\n" % edge.get("curve_points_total", len(edge["curve"])))
    rows = metrics.thin_curve(edge["curve"], 11)
    if task.kind == "sequence_classification":
        L.append("  | threshold | escalated | oos recall | oos precision | in-scope acc. (escalated = not local) | kept acc. |")
        L.append("  |---|---|---|---|---|---|")
        for r in rows:
            L.append("  | %.4f | %.3f | %.3f | %.3f | %.4f | %.4f |" % (
                r["threshold"], r["escalation_rate"], r["oos_recall"], r["oos_precision"], r["in_scope_accuracy"],
                r["local_accuracy"]))
    else:
        L.append("  | threshold | texts escalated | kept span F1 | kept P | kept R |")
        L.append("  |---|---|---|---|---|")
        for r in rows:
            L.append("  | %.4f | %.3f | %.4f | %.4f | %.4f |" % (r["threshold"], r["escalation_rate"], r["local_f1"],
                                                              r["local_precision"], r["local_recall"]))
    abl = os.path.join(args.out, "ablation", name + ".json")
    if os.path.isfile(abl):
        a = read_json(abl)
        key = "accuracy" if task.kind == "sequence_classification" else "span_f1"
        parts = ["%s %s %.4f (best epoch %d, %.0f s)" % (r["init"], key, r["dev"][key], r["best_epoch"],
                                                          r["finetune_seconds"]) for r in a["runs"]]
        L.append("\n- **MLM ablation** (same fine-tuning budget): " + "; ".join(parts) + ".")
    L.append("- **Intended use**: %s" % info["use"])
    L.append("- **Limits**: %s" % info["limits"])
    return "\n".join(L) + "\n"


def cmd_cards(args):
    """Writes OUT/MODEL_CARDS.md for every task folder with an edgetag.json."""
    names = [n for n in tasks_mod.TASK_NAMES if os.path.isfile(os.path.join(args.out, n, "edgetag.json"))]
    parts = ["# edgetag student models (draft model cards)\n",
             "Written by `python3 -m tools.train cards` from each folder's edgetag.json and config.json. Figures are on "
             "the dev splits (the test splits are held out of ../shared/data), computed in float32 by the "
             "PyTorch reference forward (tools/eval/reference_bert.py); int8 figures come from the engine's `make "
             "eval`.\n"]
    mlm = os.path.join(args.out, "mlm", "mlm.json")
    if os.path.isfile(mlm):
        m = read_json(mlm)
        last = m["history"][-1] if m.get("history") else {}
        parts.append("Shared pre-training: masked-LM on %d train texts (%d tokens) of all five datasets, %d steps "
                     "(%d epochs), %.0f s; final dev MLM loss %.3f, masked-token accuracy %.3f. Vocabulary: %d cased "
                     "WordPiece tokens learned with tools/tokenizer/build_vocab.py from the same train texts.\n" % (
                         m["train_texts"], m["train_tokens"], m["steps"], m["hparams"]["epochs"], m["seconds"],
                         last.get("dev_loss", float("nan")), last.get("dev_accuracy", float("nan")),
                         len(read_vocab(os.path.join(args.out, "vocab")))))
    for n in names:
        parts.append(card(args, n))
    path = os.path.join(args.out, "MODEL_CARDS.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    log("cards: wrote %s (%s)" % (path, ", ".join(names)))
