"""backprop: the package behind the book *Backprop, executed*.

One implementation of backpropagation that every chapter imports, every
test checks against SymPy and central differences, and outside users can read
and reuse.
"""

#: The one seed the book and tests derive their random generators from.
SEED = 0

from .activations import get_activation, sigmoid  # noqa: E402
from .gradcheck import (check_gradients, numerical_gradient,  # noqa: E402
                        relative_error)
from .layers import Dense  # noqa: E402
from .network import MLP  # noqa: E402

__all__ = ["SEED", "MLP", "Dense", "get_activation", "sigmoid",
           "numerical_gradient", "relative_error", "check_gradients"]
__version__ = "0.1.0"
