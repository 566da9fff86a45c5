"""What routelens publishes for monitoring: exporter, rules, alert routes, dashboards."""
