"""tools/report — does a task belong on the device? One self-contained HTML page (and Markdown) per shipped model,
from measurements the tool runs itself, on five questions:

  boundedness   label count; accuracy / span F1 against the gold labels of the task's dev split, through the
                engine (the native CLI on the int8 file, the evaluator's path: tools/eval/engine.py); the
                weakest classes or entity types; the threshold curve (escalation vs what stays local)
  latency       local p50/p95 through the wasm build in Node 24 on dev texts as they come, one at a time,
                beside a stated cloud round trip
  sensitivity   share of the task's texts in which the pii-ner model finds personal data, by type
  cost          per million requests, cloud only vs hybrid at several thresholds: given token prices, the
                measured escalation rates, the tokens of the exact request the escalation adapter sends
  ownership     file and update size, engine memory, versions, release channel state

    /usr/bin/python3 -m tools.report --out docs/report            (make report)

quality.py: the engine's answers into the measures and curves; costs.py: the cost model; plots.py: the figures
(matplotlib); render.py: HTML and Markdown; measure.mjs: latency, tokens and memory through the wasm build."""
