"""Vigil's vocabulary: typed models and enums, no I/O and no imports from the rest of Vigil."""
