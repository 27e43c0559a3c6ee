"""SciPy's Gauss hypergeometric function, with its gaps near z = 1 closed.

`scipy.special.hyp2f1(a, b, c, z)` returns NaN for z close to 1 when c - a - b is an integer or
within ~1e-3 of one (hypothesis found both in the models' expectations: a = 4.4817, b = 1.8977,
c = a + b - 1, z = 0.9978, true value 1763.77; and a = 1, b = 199.71, c = b + 1e-4, z = 0.9977,
true value 430.96). Where it does, the same value is tried by Euler's transformation
2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z), and where that fails too, at c (1 + 1e-10)
(2F1 is continuous in c: a relative change of ~1e-10 in the result).
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1 as _hyp2f1

_NUDGE = 1e-10


def hyp2f1(a, b, c, z) -> np.ndarray:
    value = np.asarray(_hyp2f1(a, b, c, z), dtype=np.float64)
    if not np.isnan(value).any():
        return value
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    value = np.array(np.broadcast_to(value, a.shape), dtype=np.float64)
    with np.errstate(all="ignore"):
        for attempt in (
            lambda i: (1 - z[i]) ** (c[i] - a[i] - b[i]) * _hyp2f1(c[i] - a[i], c[i] - b[i], c[i], z[i]),
            lambda i: _hyp2f1(a[i], b[i], c[i] * (1.0 + _NUDGE), z[i]),
        ):
            failed = np.isnan(value)
            if not failed.any():
                break
            value[failed] = attempt(failed)
    return value
