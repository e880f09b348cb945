"""The QC web pages: one module per subdomain, each with its views and their forms (worklist,
results, notices, specs, imports), and `urls.py`, mounted once by `carnk_mfg.urls`. Pages are
built by `qc.presenters`."""
