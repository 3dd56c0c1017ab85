"""Cost per million requests, cloud only against hybrid, from given prices and measured counts.

Cloud only: every request goes to the cloud model: its input tokens (the exact request the escalation adapter
builds — system prompt with the label set or entity types, the JSON schema, the text) and output tokens (the
answer as JSON), at the given prices per million tokens. Hybrid at threshold t: only the texts that escalate at
t pay the cloud, with their own token counts (escalated texts are not average texts); the local part costs
nothing on the device, or, on an edge worker, the given price per million requests plus CPU time at the
measured local p50 (Workers' standard pricing as given). Token counts are WordPiece tokens of the model's own
vocabulary: a cloud model's BPE counts differ by a few tens of percent; the ratio between the columns does not."""


def per_million(in_tokens, out_tokens, escalated, prices):
    """Cloud dollars per million requests: the mean over the sample of (escalated ? tokens × prices : 0) × 1e6."""
    n = len(in_tokens)
    total = sum((i * prices["input"] + o * prices["output"]) / 1e6 for i, o, e in zip(in_tokens, out_tokens, escalated) if e)
    return total / n * 1e6 if n else 0.0


def table(quality, sample, measured, prices, edge, thresholds, escalates):
    """Rows {threshold, escalation_rate, cloud, device_total, edge_total} for cloud only and each threshold.
    sample: the indices (into the quality run) of the texts measured; measured: measure.mjs's output."""
    ins, outs = measured["inputTokens"], measured["outputTokens"]
    everything = [True] * len(sample)
    cloud_only = per_million(ins, outs, everything, prices)
    edge_local = edge["per_million_requests"] + edge["per_million_cpu_ms"] * measured["p50_ms"]
    rows = [{"name": "cloud only", "threshold": None, "escalation_rate": 1.0, "cloud": cloud_only,
             "device_total": cloud_only, "edge_total": cloud_only}]
    for t in thresholds:
        esc = [escalates(quality, i, t) for i in sample]
        cloud = per_million(ins, outs, esc, prices)
        rows.append({"name": "hybrid", "threshold": t, "escalation_rate": sum(esc) / len(esc), "cloud": cloud,
                     "device_total": cloud, "edge_total": cloud + edge_local})
    return rows
