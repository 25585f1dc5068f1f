"""The lag accounting of the JetStream bus: exact for its own messages, estimated for others'."""

from __future__ import annotations

from analytics_hub.bus.lagbook import LagBook


def test_own_messages_are_counted_exactly_from_publish_to_ack() -> None:
    book: LagBook[str] = LagBook(typical_weight=1000)
    assert book.reserve(100, capacity=1000) is None
    book.sending(2)
    assert book.lag == 100  # in flight
    book.published(100, 2, [(1, 60), (2, 40)])
    assert book.lag == 100  # stored, not yet delivered
    book.hold(1, 60, "m1")
    book.hold(2, 40, "m2")
    assert book.lag == 100  # delivered, not yet acknowledged
    # The server counts the two held messages: nothing is estimated on top.
    book.snapshot(delivered_seq=2, pending_messages=2)
    assert book.lag == 100
    assert book.release([1, 2]) == ["m1", "m2"]
    assert book.lag == 0


def test_other_processes_messages_are_estimated_at_the_average_weight() -> None:
    book: LagBook[str] = LagBook(typical_weight=10)
    book.snapshot(delivered_seq=0, pending_messages=5)
    assert book.lag == 50
    assert book.reserve(60, capacity=100) == 50  # refused, with the lag that refused it
    assert book.reserve(50, capacity=100) is None
    book.forget_others()
    assert book.lag == 50  # only what this process reserved remains


def test_a_message_another_process_took_moves_from_exact_to_estimated() -> None:
    book: LagBook[str] = LagBook(typical_weight=7)
    book.reserve(7, capacity=100)
    book.sending(1)
    book.published(7, 1, [(9, 7)])
    book.snapshot(delivered_seq=9, pending_messages=1)  # delivered, to someone else
    assert book.lag == 7
    book.snapshot(delivered_seq=9, pending_messages=0)  # and acknowledged there
    assert book.lag == 0


def test_a_message_on_its_way_to_this_process_is_not_counted_twice() -> None:
    book: LagBook[str] = LagBook(typical_weight=10)
    book.reserve(10, capacity=1000)
    book.sending(1)
    book.published(10, 1, [(1, 10)])
    # Delivered to this process, which has not handled the delivery yet.
    book.snapshot(delivered_seq=1, pending_messages=1)
    assert book.lag == 10
    book.hold(1, 10, "m1")
    assert book.lag == 10
    book.snapshot(delivered_seq=1, pending_messages=1)
    assert book.lag == 10


def test_a_message_delivered_before_its_publish_answer_is_not_counted_twice() -> None:
    book: LagBook[str] = LagBook(typical_weight=1000)
    book.reserve(1000, capacity=2000)
    book.sending(1)
    book.hold(1, 1000, "m1")  # JetStream delivered it before our publish answer came
    book.published(1000, 1, [(1, 1000)])
    assert book.lag == 1000
    assert book.reserve(1000, capacity=2000) is None  # room for exactly one more
    book.release([1])
    book.snapshot(delivered_seq=1, pending_messages=0)
    book.snapshot(delivered_seq=1, pending_messages=0)
    book.published(1000, 0, [])
    assert book.lag == 0


def test_a_message_waiting_in_this_process_buffer_stays_counted_once() -> None:
    book: LagBook[str] = LagBook(typical_weight=10)
    book.reserve(10, capacity=1000)
    book.sending(1)
    book.published(10, 1, [(1, 10)])
    # Delivered here, buffered until the writer's next fetch, across two snapshots.
    book.snapshot(delivered_seq=1, pending_messages=1, buffered=[1])
    book.snapshot(delivered_seq=1, pending_messages=1, buffered=[1])
    assert book.lag == 10
    book.hold(1, 10, "m1")
    assert book.lag == 10


def test_a_piece_in_flight_is_not_counted_twice_by_a_snapshot() -> None:
    book: LagBook[str] = LagBook(typical_weight=500)
    book.reserve(30, capacity=1000)
    book.sending(3)
    book.snapshot(delivered_seq=0, pending_messages=3)  # stored, our answer not here yet
    assert book.lag == 30
    book.published(30, 3, [(1, 10), (2, 10), (3, 10)])
    assert book.lag == 30


def test_an_empty_bus_always_lets_one_message_in() -> None:
    book: LagBook[str] = LagBook(typical_weight=1)
    assert book.reserve(5000, capacity=100) is None
    assert book.reserve(1, capacity=100) == 5000
