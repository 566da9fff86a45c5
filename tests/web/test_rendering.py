"""Display filters and the escaping environment."""

from __future__ import annotations

from routelens.web.rendering import environment, path_segment, percent, points, query, usd, when


def test_filters_show_numbers_for_people() -> None:
    assert percent(0.8512) == "85.1%"
    assert percent(None) == "\N{EN DASH}"
    assert points(0.015) == "+1.5 pt"
    assert points(-0.2) == "-20.0 pt"
    assert usd(1234.5, 2) == "$1,234.50"
    assert when("2025-01-02T03:04:05.123456+00:00") == "2025-01-02 03:04 UTC"


def test_urls_quote_what_users_named() -> None:
    assert path_segment("a/b c?<x>") == "a%2Fb%20c%3F%3Cx%3E"
    assert query({"window": "7d", "page": 2}, page=None) == "?window=7d"
    assert query({}, q="a&b") == "?q=a%26b"
    assert query({}) == ""


def test_the_environment_escapes_everything() -> None:
    template = environment().from_string("{{ value }}|{{ value|path }}")
    assert template.render(value="<b>{{7*7}}</b>") == (
        "&lt;b&gt;{{7*7}}&lt;/b&gt;|%3Cb%3E%7B%7B7%2A7%7D%7D%3C%2Fb%3E"
    )
