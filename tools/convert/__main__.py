"""python3 -m tools.convert HF_DIR -o OUT.gguf [options]: the converter's command line (tools/convert/__init__.py)."""

import argparse
import sys

from tools.convert.checkpoint import AGGREGATIONS, TASKS
from tools.convert.convert import convert
from tools.convert.errors import ConvertError
from tools.formats import ggufio


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 1 (argparse's default is 2 + usage)
        print("convert.py: error: %s" % message, file=sys.stderr)
        sys.exit(1)


def main(argv=None):
    ap = _Parser(prog="convert.py", description="Convert a Hugging Face BERT folder to an edgetag GGUF file.")
    ap.add_argument("hf_dir", help="Hugging Face checkpoint folder")
    ap.add_argument("-o", "--out", required=True, help="output .gguf path")
    ap.add_argument("--outtype", choices=("f32", "f16"), default="f32", help="2-D tensor type (default f32)")
    ap.add_argument("--task", choices=("auto",) + TASKS, default="auto",
                    help="task (default: from config.json architectures)")
    ap.add_argument("--model-version", default=None,
                    help="edgetag.model.version (default: edgetag.json's model_version, else \"0\")")
    ap.add_argument("--name", help="general.name (default: the folder's name)")
    ap.add_argument("--aggregation", choices=AGGREGATIONS,
                    help="token classifiers: how their entities are best decoded, the engine's default "
                         "(edgetag.tagging.aggregation; default: edgetag.json's aggregation, else none written)")
    ap.add_argument("--abstain-label", metavar="NAME",
                    help="classifiers: the label whose prediction means the model declines and the request "
                         "escalates (edgetag.escalation.abstain_label; one of the labels; default: edgetag.json's "
                         "abstain_label, else none written)")
    args = ap.parse_args(argv)
    try:
        print(convert(args.hf_dir, args.out, args.outtype, args.task, args.model_version, args.name,
                      aggregation=args.aggregation, abstain_label=args.abstain_label))
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    except ggufio.GGUFError as e:
        print("convert.py: error: cannot write the GGUF file: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("convert.py: error: %s: %s" % (e.filename or "I/O", e.strerror or e), file=sys.stderr)
        return 1
    except MemoryError:
        print("convert.py: error: out of memory", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
