"""Generated stubs of ``proto/analytics_hub/v1/ingest.proto`` (package ``analytics_hub.v1``).

``ingest_pb2`` holds the messages, ``ingest_pb2_grpc`` the client stub
(``IngestServiceStub``). Do not edit them: change the .proto and run
``python -m analytics_hub.api.grpc.generate``.
"""
