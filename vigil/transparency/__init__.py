"""Accountability to the public: statements of reasons, the daily figures, the periodic report."""
