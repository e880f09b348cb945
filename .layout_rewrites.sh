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

# 3. batches services: after_infusion.py -> clinical.py; batch_record.py -> batch_record/
#    package (steps, counts, deviations, custody; its __init__ re-exports every public name,
#    so `from batches.services import batch_record` and `batch_record.X` keep working).
#    In tests a fixture is called `clinical` (the clinical user), so there the module is
#    imported as `clinical_services`.
mapfile -t tests < <(printf '%s\n' "${files[@]}" | grep '^tests/' || true)
mapfile -t code < <(printf '%s\n' "${files[@]}" | grep -v '^tests/' || true)
rwc() { sed -i -E "$1" "${code[@]}"; }
rwt() { [ ${#tests[@]} -eq 0 ] || sed -i -E "$1" "${tests[@]}"; }
rw 's/\bbatches\.services\.after_infusion\b/batches.services.clinical/g'
rwc 's/^(\s*)from batches\.services import after_infusion$/\1from batches.services import clinical/'
rwc 's/^(\s*)from batches\.services import after_infusion, bedside$/\1from batches.services import bedside, clinical/'
rwc 's/\bafter_infusion\.([a-z_]+\()/clinical.\1/g'
rwt 's/^(\s*)from batches\.services import after_infusion$/\1from batches.services import clinical as clinical_services/'
rwt 's/\bafter_infusion\.([a-z_]+\()/clinical_services.\1/g'
#    qc services: plan.py folds into specs.py (the plan is what an approved spec set asks
#    for); send_outbox moves from overdue.py to notices.py (the outbox's own module);
#    results._normalize_unit is public as normalize_unit.
rw 's/\bqc\.services\.plan\b/qc.services.specs/g'
rw 's/^(\s*)from qc\.services\.overdue import send_outbox$/\1from qc.services.notices import send_outbox/'
rw 's/\b_normalize_unit\b/normalize_unit/g'
