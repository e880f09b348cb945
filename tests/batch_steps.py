"""Valid payloads for each step of the default template, shared by the batch tests."""

from datetime import timedelta


def step_payloads(day0, din="G123498654321"):
    """(code, performed_at, values, materials) for the five default steps, on their days."""
    return [
        (
            "thaw_isolation",
            day0,
            {
                "cbu_din": din,
                "post_thaw_tnc": 9e8,
                "post_thaw_viability_pct": 88,
                "nk_purity_pct": 92,
            },
            [{"kind": "reagent", "lot_number": "ISO-1"}],
        ),
        (
            "stimulation",
            day0 + timedelta(hours=3),
            {"feeder_nk_ratio": 2, "il2_iu_per_ml": 200, "feeder_irradiation_gy": 100},
            [{"kind": "feeder", "lot_number": "FD-1"}, {"kind": "reagent", "lot_number": "IL2-1"}],
        ),
        (
            "transduction",
            day0 + timedelta(days=5),
            {"vector_titer": 2e7, "moi": 10, "vector_volume_ml": 12},
            [{"kind": "vector", "lot_number": "RV-1"}, {"kind": "reagent", "lot_number": "RN-1"}],
        ),
        (
            "restimulation",
            day0 + timedelta(days=7),
            {"feeder_nk_ratio": 1},
            [{"kind": "feeder", "lot_number": "FD-1"}],
        ),
        (
            "harvest",
            day0 + timedelta(days=14),
            {
                "final_viable_cells": 3e9,
                "final_volume_ml": 100,
                "final_concentration": 3e7,
                "car_positive_pct": 55,
                "cd3_positive_pct": 0.2,
            },
            [],
        ),
    ]
