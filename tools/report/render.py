"""One model's measures (collect.py) as a self-contained HTML page (figures embedded as data: URIs, no script,
no external file) and as Markdown with the figures as PNG files beside it."""

import base64
import html
import re

from tools.report import plots

CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:.92em}.verdict{background:#f6f8fa;border-left:4px solid #1f77b4;padding:.5em 1em}"""


def pct(x):
    return "–" if x is None else "%.1f %%" % (100 * x)


def mb(n):
    return "–" if n is None else "%.2f MB" % (n / 1e6)


def money(x):
    return "$%.2f" % x if x < 100 else "$%.0f" % x


def sections(r):
    """[(title, [paragraph or table or figure])]: the page's content, shared by HTML and Markdown.
    A table is ("table", header, rows); a figure ("figure", key, caption); text is a string."""
    q, lat, sens, cost, own = r["quality"], r["latency"], r["sensitivity"], r["cost"], r["ownership"]
    clf = q["kind"] == "classify"
    head = (("accuracy %.4f (in-scope %.4f, oos recall %.3f)" % (q["accuracy"], q["in_scope_accuracy"], q["oos_recall"]))
            if clf else ("entity span F1 %.4f (precision %.4f, recall %.4f)" % (q["f1"], q["precision"], q["recall"])))
    kept = ("kept-local accuracy %.4f" % q["local_accuracy"]) if clf else ("kept-local span F1 %.4f" % q["local_f1"])
    weak = [(c["label"], "%.3f" % c["f1"], "%.3f" % c["precision"], "%.3f" % c["recall"], str(c["support"])) for c in q["classes"][:8]]
    out = []
    out.append(("Boundedness", [
        "%s (%s). On the %d texts of the dev split, through the engine on the int8 file: %s. At the shipped "
        "threshold %.3f, %s of the texts escalate and the rest reach a %s." % (
            ("%d labels" % r["labels"]) if clf else ("%d entity types (%d BIO tags)" % ((r["labels"] - 1) // 2, r["labels"])),
            r["description"], q["texts"], head, q["threshold"], pct(q["escalation_rate"]), kept),
        ("table", ("weakest %s" % ("classes" if clf else "entity types"), "F1", "precision", "recall", "support"), weak),
        ("figure", "curve", "The threshold curve: each point is a threshold; left is everything local, right everything "
                            "escalated. The red point is the shipped threshold."),
    ]))
    cl = lat["cloud"]
    out.append(("Latency", [
        "Local, through the wasm build (%s SIMD) in Node %s, one text at a time as an application calls it, on %d dev "
        "texts (mean %.1f tokens, longest %d): p50 %.2f ms, p95 %.2f ms — per text the fastest of %d runs, on a shared "
        "2-core machine whose load average was %.1f. Cloud round trip: p50 %d ms, p95 %d ms — %s." % (
            r["measured"]["engine"]["flavour"], r["measured"]["engine"]["node"], lat["texts"], lat["mean_text_tokens"],
            lat["max_text_tokens"], lat["p50_ms"], lat["p95_ms"], lat["repeats"], lat["load_average"], cl["p50_ms"],
            cl["p95_ms"], cl["source"]),
        ("figure", "latency", "Local latency per text, with the local and the stated cloud percentiles (log scale)."),
    ]))
    rows = [(t["type"], str(t["texts"]), pct(t["share"]), " · ".join(t["examples"])) for t in sens["by_type"][:10]]
    pat = sens["patterns"]
    out.append(("Sensitivity", [
        "The pii-ner model flags personal data in %s of the %d texts%s. Its flags are not checked against gold "
        "here: read the spans it flagged — outside its synthetic training data it also flags words that are no "
        "personal data, so this share is an upper bound. Identifiers of a checkable shape (patternRedactor(): "
        "e-mail, phone, card, IBAN, IP, SSN, domain) occur in %s of the texts%s, a lower bound." % (
            pct(sens["share_with_any"]), sens["texts"],
            " (its own dev split: every text was written to hold some)" if r["name"] == "pii-ner" else "",
            pct(pat["share_with_any"]),
            " (%s)" % ", ".join("%s %d" % kv for kv in pat["by_type"].items()) if pat["by_type"] else ""),
        ("table", ("type flagged", "texts", "share", "spans it flagged (first few)"), rows),
        "With redaction on (`redact: anyOf(piiModel, patternRedactor())`), what they find is replaced by "
        "placeholders before a text leaves, and only that redacted text is ever captured for training.",
    ]))
    p = cost["prices"]
    crow = [(c["name"] if c["threshold"] is None else "hybrid at %.3f" % c["threshold"], pct(c["escalation_rate"]),
             money(c["device_total"]), money(c["edge_total"])) for c in cost["rows"]]
    out.append(("Cost", [
        "Per million requests at $%.2f per million input tokens and $%.2f per million output tokens (given). An "
        "escalated request carries on average %.0f input tokens (the adapter's system prompt with the %s, the JSON "
        "schema, the text) and %.0f output tokens; counted with the model's WordPiece vocabulary. The edge worker's "
        "local part: $%.2f per million requests plus $%.2f per million CPU-ms at the measured p50 (given)." % (
            p["input"], p["output"], cost["mean_input_tokens"], "label set" if clf else "entity types",
            cost["mean_output_tokens"], cost["edge"]["per_million_requests"], cost["edge"]["per_million_cpu_ms"]),
        ("table", ("", "escalated", "local on the device", "local on an edge worker"), crow),
        ("figure", "cost", "Cost per million requests against the threshold."),
    ]))
    rel = own["release"]
    lines = [("model version", r["version"]), ("engine", "edgetag %s" % own["engine"]["library"]),
             ("int8 file (the download, and each update: the whole file)", mb(own["int8_bytes"])),
             ("the same gzip -9 (on the wire)", mb(own["update_gzip_bytes"])),
             ("f32 file (kept for retraining)", mb(own["f32_bytes"])),
             ("engine memory after load / after the runs", "%s / %s" % (mb(own["wasm_memory_after_load"]), mb(own["wasm_memory_after_runs"]))),
             ("load time (Node, from bytes)", "%.0f ms" % own["load_ms"])]
    if rel["shipped"]:
        lines.append(("shipped (models/manifest.json)", "%s, sha256 %s…" % (rel["shipped"]["version"], rel["shipped"]["sha256"][:12])))
    if rel["channel"]:
        c = rel["channel"]
        lines.append(("release channel %s" % c["channel"], "%s to %g %% of installations, previous %s, expires %s" % (
            c["version"], c["rollout"], c["previous"], c["expiresAt"])))
    else:
        lines.append(("release channel", "none given (--release DIR): the shipped file only"))
    d = own.get("distill")
    if d:
        m = d["matched"]
        lines.append(("last distillation round (%s)" % d["decision"], "%s: %d teacher examples; held-out (%d texts) "
                      "accuracy %.4f → %.4f; escalation at kept-local accuracy %.4f %.1f %% → %.1f %%%s" % (
                          "accepted, " + d["version"] if d["accepted"] else "refused", d["teacher_examples"],
                          d["heldout_texts"], d["old_accuracy"], d["new_accuracy"], m["target_local_accuracy"],
                          100 * m["old"]["escalation_rate"], 100 * m["new"]["escalation_rate"],
                          "" if d["accepted"] else " — " + "; ".join(d["reasons"]))))
    out.append(("Ownership", [("table", ("", ""), lines),
                              "Owning it means: retraining (tools/train, tools/distill), signing and staging releases "
                              "(tools/release.mjs), watching escalation rates (telemetry) and rolling back."]))
    return out


def images(r):
    q, m = r["quality"], r["measured"]
    return {"curve": plots.threshold_curve(q, r["name"]), "latency": plots.latency(m, r["latency"]["cloud"], r["name"]),
            "cost": plots.cost(r["cost"]["grid"], r["cost"]["rows"][0]["device_total"], r["threshold"], r["name"],
                              r["cost"]["grid"][0]["edge_total"] - r["cost"]["grid"][0]["device_total"])}


def title(r):
    return "%s — does it belong on the device?" % r["name"]


def is_figure(c):
    """Whether a cell holds a figure (right-aligned) rather than words (left-aligned)."""
    return re.match(r"^[-–$\d.,% /]+( ms| MB| %)?$", str(c)) is not None


def cell(c):
    """A table cell: figures right-aligned (the stylesheet's default), words left."""
    text = str(c)
    return "<td>%s</td>" % html.escape(text) if is_figure(text) else '<td style="text-align:left">%s</td>' % html.escape(text)


def to_html(r, imgs, verdict):
    parts = ["<!doctype html><html lang=en><meta charset=utf-8><title>%s</title><style>%s</style>"
             % (html.escape(title(r)), CSS), "<h1>%s</h1>" % html.escape(title(r)),
             "<p class=verdict>%s</p>" % html.escape(verdict)]
    for name, items in sections(r):
        parts.append("<h2>%s</h2>" % name)
        for it in items:
            if isinstance(it, str):
                parts.append("<p>%s</p>" % html.escape(it))
            elif it[0] == "table":
                left = [bool(it[2]) and not is_figure(row_cell) for row_cell in (it[2][0] if it[2] else [])]
                header = "<tr>%s</tr>" % "".join(
                    ('<th style="text-align:left">%s</th>' if i < len(left) and left[i] else "<th>%s</th>") % html.escape(h)
                    for i, h in enumerate(it[1])) if any(it[1]) else ""
                parts.append("<table>%s%s</table>" % (header, "".join(
                    "<tr>%s</tr>" % "".join(cell(c) for c in row) for row in it[2])))
            else:
                data = base64.b64encode(imgs[it[1]]).decode()
                parts.append('<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption class=note>%s</figcaption></figure>'
                             % (html.escape(it[2]), data, html.escape(it[2])))
    parts.append("<p class=note>%s</p></html>" % html.escape(r["provenance"]))
    return "\n".join(parts)


def to_markdown(r, verdict):
    out = ["# %s" % title(r), "", "> %s" % verdict, ""]
    for name, items in sections(r):
        out += ["## " + name, ""]
        for it in items:
            if isinstance(it, str):
                out += [it, ""]
            elif it[0] == "table":
                out += ["| " + " | ".join(it[1]) + " |", "|" + "---|" * len(it[1])]
                out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in it[2]] + [""]
            else:
                out += ["![%s](%s-%s.png)" % (it[2], r["name"], it[1]), ""]
    out += ["_%s_" % r["provenance"], ""]
    return "\n".join(out)
