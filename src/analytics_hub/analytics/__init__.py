"""Analytics over stored events: anomaly detection and forecasting."""
