"""The two back ends of leaderboards, private to scoring: ``sql`` (materialised totals and rank buckets, the
authority), ``redis_write`` (the sorted-set mirror, written after commit by the ledger's one write path) and
``redis_read`` (ranks and pages from the mirror). Everyone else goes through ``scoring.leaderboards``."""
