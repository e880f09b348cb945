"""The requirements traceability matrix: which regulatory clause is built where, and which
tests prove it.

    catalogue.py   the clauses (identifier, requirement in words, where it is built)
    matrix.py      the matrix from a test run's results: var/traceability.html and .csv

Tests name the clauses they prove with ``@pytest.mark.clause("21 CFR 11.10(e)")``; the pytest
plugin in tests/traceability.py refuses a clause missing from the catalogue and writes each
marked test's outcome to a JSON file. ``make trace`` runs those tests and builds the matrix;
``python -m carnk_mfg.traceability`` builds it again from the last run's results.
"""
