"""Predictions: expected purchases, P(alive), spend per order, CLV, due dates and churn risk.

    from rfm_cli.core.predict import predict
    result, _ = predict("shop.duckdb", horizon_days=90)
    result.customers  # a Polars frame, one row per customer
    result.model      # the models, fitted parameters, log-likelihoods, convergence

`predict_customers(store, ...)` does the same on an open store (for other commands to build on).
Its names are loaded on first use (PEP 562): `rfm_cli.core.predict.stored`, which export and run
import, loads no NumPy or SciPy; `predict` and the rest load them (commands import inside the function).
"""

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "PredictionResult",
    "predict",
    "predict_customers",
    "prediction_columns",
]


def __getattr__(name: str):
    if name in __all__:
        from rfm_cli.core.predict import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
