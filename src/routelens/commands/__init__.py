"""Analytics commands (`confusion`, `trend`, `cost`, `flaky`, `confidence`): each reads
aggregates from the store in SQL, computes with a pure function from `routelens.analytics`,
and prints a table or JSON."""
