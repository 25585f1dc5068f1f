"""WebSocket adapters: the live feed (``GET /api/v1/stream``)."""
