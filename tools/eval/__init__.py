"""Measures and evaluation: metrics (seqeval, spans, CLINC, calibration, thresholds), reference_bert (the
PyTorch oracle), engine (shipped models through the native CLI), pytorch (a checkpoint through the oracle)."""
