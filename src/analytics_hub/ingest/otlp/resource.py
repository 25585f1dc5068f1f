"""What every item of one OTLP resource shares: tags, asset, environment."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from analytics_hub.events import Limits
from analytics_hub.ingest.otlp.attributes import (
    Attributes,
    ItemProblem,
    index,
    resource_tags,
    text,
)
from analytics_hub.ingest.otlp.options import OtlpOptions

ENVIRONMENT = ("deployment.environment.name", "deployment.environment")
SCOPE_TAG = "otel.scope.name"
DEFAULT_ENVIRONMENT = "prod"


@dataclass(frozen=True, slots=True)
class ResourceContext:
    """One resource, read once for all of its spans or log records.

    ``problem`` is set when the resource itself is unusable (too many attributes): each
    of its items is then rejected with it.
    """

    attributes: Attributes
    tags: dict[str, str]
    environment: str
    problem: ItemProblem | None = None

    @classmethod
    def of(cls, resource: Resource, options: OtlpOptions, limits: Limits) -> ResourceContext:
        """Read ``resource`` under ``options``."""
        n = len(resource.attributes)
        if n > options.max_attributes:
            problem = ItemProblem(
                "resource.attributes",
                f"the resource has {n} attributes; at most {options.max_attributes} are "
                "accepted (OtlpOptions.max_attributes)",
            )
            return cls({}, {}, DEFAULT_ENVIRONMENT, problem)
        attributes = index(resource.attributes)
        return cls(
            attributes=attributes,
            tags=resource_tags(
                resource.attributes,
                skip=options.untagged_resource_attributes,
                first=options.asset_attribute,
                limits=limits,
            ),
            environment=text(attributes, ENVIRONMENT) or DEFAULT_ENVIRONMENT,
        )

    def scope_tags(self, scope_name: str, limits: Limits) -> dict[str, str]:
        """The tags of items from instrumentation scope ``scope_name``."""
        if not scope_name or len(scope_name) > limits.max_tag_value_length:
            return self.tags
        return {**self.tags, SCOPE_TAG: scope_name}

    def asset(self, attribute: str, item_attributes: Attributes) -> str | None:
        """The value of ``attribute``: the resource's, else the item's."""
        return text(self.attributes, (attribute,)) or text(item_attributes, (attribute,))


__all__ = ["DEFAULT_ENVIRONMENT", "ENVIRONMENT", "SCOPE_TAG", "ResourceContext"]
