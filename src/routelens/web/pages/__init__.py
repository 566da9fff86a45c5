"""Page functions: each takes the web context, the URL's path values and its query, and
returns the plain dict its template shows and `/api/...` returns."""
