"""An example Vigil plugin: a new hash type (``text-simhash``) and a detector (``invite_links``).

It touches nothing inside ``vigil``: both are found through entry points (``pyproject.toml``).
"""
