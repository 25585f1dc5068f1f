"""Silence the warnings statsmodels raises while it optimises, and only while it does.

A likelihood search on real usage data routinely ends with "failed to converge" or a
non-invertible Hessian, and probes overflow on the way. Those are expected outcomes of a
fit, judged by the forecast they produce (the ensemble scores every member on a holdout
and a non-finite forecast is rejected), not signals for the user. The filters are scoped
to the fit and predict calls, so warnings from everything else still surface (tests turn
warnings into errors).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


@contextmanager
def statsmodels_quiet() -> Iterator[None]:
    """Suppress statsmodels' optimisation warnings and numpy overflow warnings inside."""
    # Imported here: statsmodels costs a second at startup, and only a fit needs it.
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        EstimationWarning,
        HessianInversionWarning,
        ModelWarning,
        ValueWarning,
    )

    with (
        warnings.catch_warnings(),
        np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"),
    ):
        for category in (
            ConvergenceWarning,
            EstimationWarning,
            HessianInversionWarning,
            ModelWarning,
            ValueWarning,
        ):
            warnings.simplefilter("ignore", category)
        # Optimisers probe extreme parameters; the overflow they hit there is discarded.
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
