"""``?`` placeholders become ``$n`` only where they are placeholders."""

from __future__ import annotations

import pytest

from analytics_hub.store.postgres_statements import numbered


def test_placeholders_are_numbered_in_order() -> None:
    got = numbered("SELECT a FROM t WHERE x = ? AND y IN (?, ?) LIMIT ?")
    assert got.sql == "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3) LIMIT $4"
    assert got.placeholders == 4
    assert got.keyword == "SELECT"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("SELECT 'a ? b', ? FROM t", "SELECT 'a ? b', $1 FROM t"),
        ("SELECT 'it''s ?', ? FROM t", "SELECT 'it''s ?', $1 FROM t"),
        ('SELECT "odd?name", ? FROM t', 'SELECT "odd?name", $1 FROM t'),
        ("SELECT ? -- a ? in a comment\n", "SELECT $1 -- a ? in a comment\n"),
        ("SELECT /* ? */ ? FROM t", "SELECT /* ? */ $1 FROM t"),
        ("SELECT $$ ? $$, ? FROM t", "SELECT $$ ? $$, $1 FROM t"),
        ("SELECT $tag$ it's ? $tag$, ? FROM t", "SELECT $tag$ it's ? $tag$, $1 FROM t"),
        ("SELECT x #>> '{}', ? FROM t", "SELECT x #>> '{}', $1 FROM t"),
    ],
)
def test_question_marks_in_literals_identifiers_and_comments_stay(text: str, want: str) -> None:
    got = numbered(text)
    assert (got.sql, got.placeholders) == (want, 1)


def test_positional_parameters_and_percent_signs_are_left_alone() -> None:
    got = numbered("SELECT 'x%' LIKE ?, 5 % 3")
    assert got.sql == "SELECT 'x%' LIKE $1, 5 % 3"


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("  select 1", "SELECT"),
        ("(SELECT 1)", "SELECT"),
        ("-- why\nWITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("/* c */ DELETE FROM events", "DELETE"),
        ("'lit'", ""),
    ],
)
def test_the_first_keyword_is_found_after_comments(text: str, keyword: str) -> None:
    assert numbered(text).keyword == keyword
