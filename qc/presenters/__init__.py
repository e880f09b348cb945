"""Page building for the QC pages: what a page shows, worked out from records read here or
by `qc.selectors`. No writes and no forms (forms belong to `qc.web`)."""
