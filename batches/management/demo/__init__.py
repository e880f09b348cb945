"""The demo lab that `manage.py seed_demo` loads: everything written through the services,
as the lab would have written it, at the time it would have happened (the clock is moved
back for each piece with time-machine, so the trail, signatures and due dates read true)."""

from datetime import datetime

import time_machine

DEMO_PASSWORD = "carnk-demo-2026"  # printed on start; demo data only


def at(moment: datetime) -> time_machine.travel:
    """Do what follows as if at `moment`, the clock running on from there."""
    return time_machine.travel(moment, tick=True)
