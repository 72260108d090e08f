"""Standings: named boards, my progress and the collective goal (``boards``), and the organisers' report with
small-group suppression (``reports``). Boards are read through ``scoring.leaderboards``."""
