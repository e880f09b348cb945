"""Thin API endpoints, one module per subdomain: parse input, call one service, shape the
output. Routed in `batches/api/urls.py`."""
