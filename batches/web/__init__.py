"""The batches web pages: one module per subdomain (dashboard, donor, materials, recipients,
templates, batch_record, release, bedside, clinical), each with its views and their forms,
and `urls.py`, mounted once by `carnk_mfg.urls`.

A module whose forms would take it past 500 lines keeps them in `forms/<subdomain>.py`
(batch_record). Views are thin: they read through `batches.selectors` and
`batches.presenters`, write through one service call (`carnk_mfg.web.call_service`), and
render.
"""
