"""The live feed behind ``GET /api/v1/stream``: new events and per-minute metrics, pushed.

:class:`LiveFeed` is what the assembly builds and the WebSocket adapter talks to;
:class:`LiveFilter` checks a subscription's filters with the query API's own validation;
:class:`Subscription` is one connection's bounded queue. See ``docs/api/stream.md``.
"""

from analytics_hub.query.live.feed import MAX_PENDING_ROWS, LiveFeed
from analytics_hub.query.live.matcher import LiveFilter
from analytics_hub.query.live.render import MAX_EVENTS_PER_MESSAGE
from analytics_hub.query.live.subscription import LiveSpec, Outgoing, Subscription

__all__ = [
    "MAX_EVENTS_PER_MESSAGE",
    "MAX_PENDING_ROWS",
    "LiveFeed",
    "LiveFilter",
    "LiveSpec",
    "Outgoing",
    "Subscription",
]
