"""Routers: the Protocol and one module per backend."""
