"""fit_erf — the rational approximation of erf used by the engine's vector GELU (src/kernels/act.c).

Usage:
    /usr/bin/python3 -m tools.codegen.fit_erf

erf(x) ≈ x · P(x²) / Q(x²) on |x| ≤ 3.9 (beyond, erf is ±1 to within float32), P and Q of degree 5, Q's
constant term 1. Fitted by linearized least squares (P(t) − f(t)·Q(t), f = erf(x)/x, t = x²) on 40,000
points with Lawson reweighting toward the minimax solution, then rounded to float32. Prints the
coefficients as C and the maximum absolute error of a float32 Horner evaluation over [−4.5, 4.5].
The division replaces the exp of Abramowitz & Stegun 7.1.26 (the previous form): about half the
operations per element.
"""

import math

import numpy as np

LIMIT = 3.9
P_DEG, Q_DEG = 5, 5


def fit():
    xs = np.linspace(1e-6, LIMIT, 40000)
    ts = xs ** 2
    f = np.array([math.erf(x) for x in xs]) / xs
    w = np.ones_like(ts)
    best = None
    for _ in range(40):
        cols = [ts ** i for i in range(P_DEG + 1)] + [-f * ts ** i for i in range(1, Q_DEG + 1)]
        a = np.stack(cols, 1) * np.sqrt(w)[:, None]
        c, *_ = np.linalg.lstsq(a, f * np.sqrt(w), rcond=None)
        p, q = c[:P_DEG + 1], np.concatenate([[1.0], c[P_DEG + 1:]])
        err = np.abs((np.polyval(p[::-1], ts) / np.polyval(q[::-1], ts) - f) * xs)
        if best is None or err.max() < best[0]:
            best = (err.max(), p, q)
        w = w * (err / err.max() + 1e-3)
        w /= w.mean()
    return best[1].astype(np.float32), best[2].astype(np.float32)


def float32_error(p, q):
    x = np.linspace(-4.5, 4.5, 200001).astype(np.float32)
    xc = np.clip(x, np.float32(-LIMIT), np.float32(LIMIT))
    t = (xc * xc).astype(np.float32)
    num = np.full_like(t, p[-1])
    for c in p[-2::-1]:
        num = (num * t + c).astype(np.float32)
    den = np.full_like(t, q[-1])
    for c in q[-2::-1]:
        den = (den * t + c).astype(np.float32)
    y = (xc * (num / den)).astype(np.float32)
    return float(np.abs(y - np.array([math.erf(float(v)) for v in x])).max())


def main():
    p, q = fit()
    print("/* erf(x) = x·P(x²)/Q(x²), |x| <= %.1f: tools/codegen/fit_erf.py */" % LIMIT)
    print("static const float erf_p[%d] = {%s};" % (len(p), ", ".join("%.9ef" % v for v in p)))
    print("static const float erf_q[%d] = {%s};" % (len(q), ", ".join("%.9ef" % v for v in q)))
    print("/* float32 max absolute error on [-4.5, 4.5]: %.3g */" % float32_error(p, q))


if __name__ == "__main__":
    main()
