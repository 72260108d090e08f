"""A generic gamification engine: activity -> points, ledger, leaderboards, streaks, badges."""
