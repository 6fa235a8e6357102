"""A real Vigil cluster on this machine, for trying scale-out and testing it (``vigil cluster up``)."""
