"""Weight initialization schemes.

Each scheme draws W of shape (n_in, n_out) from a zero-mean normal
distribution with a standard deviation chosen from the layer's fan-in n_in
and fan-out n_out:

=======  ========================  ==========================================
name     std of W                  why
=======  ========================  ==========================================
normal   1                         naive; activations grow like sqrt(n_in)
xavier   sqrt(2 / (n_in + n_out))  Glorot & Bengio (2010): variance for tanh
he       sqrt(2 / n_in)            He et al. (2015): ReLU zeroes half
=======  ========================  ==========================================

``auto`` picks ``he`` for ReLU hidden layers and ``xavier`` otherwise.
Biases start at zero. The book derives these from a variance argument in
Part III.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_name

INIT_STD = {
    "normal": lambda n_in, n_out: 1.0,
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),
}
INIT_SCHEMES = (*INIT_STD, "auto")


def resolve_init(init: str, hidden: str) -> str:
    """Turn ``auto`` into a concrete scheme for the given hidden activation."""
    check_name(init, INIT_SCHEMES, "init")
    if init == "auto":
        return "he" if hidden == "relu" else "xavier"
    return init


def init_weights(n_in: int, n_out: int, scheme: str,
                 rng: np.random.Generator, dtype) -> np.ndarray:
    """Draw W (n_in, n_out) ~ N(0, std^2) with the std of ``scheme`` (see
    the module's docstring)."""
    check_name(scheme, INIT_STD, "init")
    std = INIT_STD[scheme](n_in, n_out)
    return (rng.standard_normal((n_in, n_out)) * std).astype(dtype)
