"""Predictions: expected purchases, P(alive), spend per order, CLV, due dates and churn risk.

    from rfm_cli.core.predict import predict
    result, _ = predict("shop.duckdb", horizon_days=90)
    result.customers  # a Polars frame, one row per customer
    result.model      # the models, fitted parameters, log-likelihoods, convergence

`predict_customers(store, ...)` does the same on an open store (for other commands to build on).
Importing this package loads NumPy and SciPy: commands import it inside the function that needs it.
"""

from rfm_cli.core.predict.engine import (
    DEFAULT_MODEL,
    MODELS,
    PredictionResult,
    predict,
    predict_customers,
    prediction_columns,
)

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "PredictionResult",
    "predict",
    "predict_customers",
    "prediction_columns",
]
