"""Thin QC API endpoints, one module per subdomain; routed in `qc/api/urls.py`."""
