"""The training pipeline of edgetag's student models; `python3 -m tools.train --help` lists the stages."""
