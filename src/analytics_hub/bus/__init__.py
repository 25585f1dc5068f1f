"""Event buses: the durable hand-off between ingest and the writers (port in ``base``)."""
