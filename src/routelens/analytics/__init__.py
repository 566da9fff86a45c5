"""Pure functions over stored rows: accuracy, confusions, cost and latency summaries."""
