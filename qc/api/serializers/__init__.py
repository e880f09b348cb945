"""API input and output shapes of QC, one module per subdomain."""
