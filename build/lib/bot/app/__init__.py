"""The use cases and their routing: the DoD (``dod``), Ready (``ready``), comments and commands on a
real forge (``commands``), the routing of events to them (``router``), the cached reads the rules
need (``cached_reads``), and the writes that converge (``converge``). They reach a forge only through
the port of ``bot/forges/base.py`` and the process only through ``ports``."""
