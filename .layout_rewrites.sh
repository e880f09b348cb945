#!/usr/bin/env bash
# Import rewrites made on the layout-core branch (one module name per subdomain in models,
# services, selectors and api; qc reached from batches only through batches/ports.py).
# Re-run it from anywhere in the repository after merging other branches that moved or added
# files: every rule is idempotent (it matches only the old spelling). The lead deletes this
# file once every branch is merged.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mapfile -t files < <(git ls-files '*.py' | grep -v '/migrations/')
rw() { sed -i -E "$1" "${files[@]}"; }

# 1. batches models: batch.py -> batch_record.py, process.py -> templates.py,
#    clinical.py split into bedside.py (BedsideCheck, BedsideOutcome, Infusion) + clinical.py.
rw 's/\bbatches\.models\.batch\b/batches.models.batch_record/g'
rw 's/\bbatches\.models\.process\b/batches.models.templates/g'
rw 's/^(\s*)from batches\.models\.clinical import (BedsideCheck|BedsideOutcome|Infusion)$/\1from batches.models.bedside import \2/'

# 2. qc/models.py -> qc/models/ package (specs, results, overdue, notices, instruments,
#    imports); `from qc.models import X` keeps working, only dotted strings need the module.
rw 's/"qc\.models\.TestState"/"qc.models.results.TestState"/g'
rw 's/"qc\.models\.ImportStatus"/"qc.models.imports.ImportStatus"/g'
