"""`routelens serve`: the web dashboard, read-only over one store.

A page is a function that gathers a plain dict through `store/` reads and the analytics
functions (`pages/`), and a Jinja2 template that shows it (`templates/`); `/api/<page>`
returns the same dict as JSON. `app.py` wires pages to URLs, `security.py` guards them,
`cache.py` keeps computed pages while the store has not changed. Charts are drawn in the
browser by the ECharts files in `static/vendor` (no inline script: the CSP forbids it).
"""
