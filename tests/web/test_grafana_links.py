"""Each page links to the Grafana panel that shows the same thing, found by its title."""

from __future__ import annotations

import pytest

from routelens.config import RoutelensConfig, ServeSettings
from routelens.publish.grafana import build_dashboards
from routelens.web.grafana_links import PAGE_PANELS, grafana_url_for

CONFIG = RoutelensConfig(serve=ServeSettings(grafana_url="https://grafana.example/"))


@pytest.mark.parametrize("page", sorted(PAGE_PANELS))
def test_the_link_opens_the_panel_of_that_title(page: str) -> None:
    uid, title = PAGE_PANELS[page]
    url = grafana_url_for(CONFIG, page)
    assert url is not None
    assert url.startswith(f"https://grafana.example/d/{uid}?viewPanel=")
    panel_id = int(url.rsplit("=", 1)[1])
    panels = build_dashboards(CONFIG)[uid]["panels"]
    (found,) = [p for p in panels if p.get("id") == panel_id]
    assert (found["title"], found["type"] != "row") == (title, True)


def test_no_grafana_url_no_link() -> None:
    assert grafana_url_for(RoutelensConfig(), "overview") is None
