"""Generators of committed C source: src/unicode_data.c (gen_unicode) and the erf approximation (fit_erf)."""
