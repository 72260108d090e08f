"""Activity in: what people did, taken in once and counted once, then credited to their challenges.

``ingest`` is the use case of each path (single, batch sync, file import, edit, delete); every path runs
``pipeline`` (input problems, the same record seen before, ``plausibility``, ``dedupe`` against overlapping
records) and ``crediting`` (one entry per challenge the activity falls in, scored through ``scoring.ledger``).
``files`` parses GPX/TCX/FIT, ``health_mappings`` reads Health Connect / HealthKit exports, ``distance_samples``
keeps per-sample distance, ``review`` is the organisers' queue of flagged entries, ``weekly`` the person's own
weeks against the WHO guideline. The activity tables are in ``models``.
"""
