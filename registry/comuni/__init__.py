"""Loading a newer official ISTAT list of comuni (`registry comuni load`); the lookups are in
registry/geo.py."""
