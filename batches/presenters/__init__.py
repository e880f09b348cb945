"""Page building: what a page shows, worked out from records the selectors read.

No writes and no forms here (forms belong to `batches.web`): a presenter takes records, the
user and the time, and returns plain rows, coordinates and flags, so each can be tested
without a request. A few reads the selectors do not offer yet live here too, next to the page
that needs them.
"""
