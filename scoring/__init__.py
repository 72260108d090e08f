"""A generic gamification engine: activity -> points, append-only ledger, leaderboards, streaks, badges.

scoring never imports challenges/ or notifications/. ``contest_id`` is the challenge id (an opaque int).
Boundary values live in scoring.types (ScoringRules, Subject, ActivityFacts, ScoreResult, BoardRow,
BoardPage, Streak, Metric, Scope, Period). Public API (stable):

scoring.catalogue
    ACTIVITY_TYPES: dict[str, ActivityType]  code -> ActivityType(code, name, compendium_code, met, category,
        max_speed_kmh, has_distance, has_steps, pace_bands; .intensity light|moderate|vigorous)
    get_type(code) -> ActivityType           raises scoring.errors.UnknownActivityType (422)
    CHECKIN                                  the 'checkin' pseudo type (metric checkins: 1 per check-in)
scoring.rules
    metric_value(rules, facts) -> float      in the metric's unit; explain(rules, facts) -> (value, rule text)
scoring.ledger  (the ONLY write path to points and boards; callers commit)
    score(session, rules, subject, source_key, facts) -> ScoreResult      idempotent (created=False on repeat)
    score_many(session, rules, [(subject, source_key, facts), ...]) -> [ScoreResult]   bulk, few statements
    reverse(session, rules, source_key) -> int          points removed (0 when nothing live); edit = reverse+score
    rescore_contest(session, contest_id) -> int         rebuild totals (SQL) and drop Redis boards (rebuilt on read)
    forget_user(session, contest_id, user_id)           take a deleted user off the user boards
    user_total(session, contest_id, user_id, period=Period.ALL, at=None, tz="UTC") -> int
    day_points(session, contest_id, user_id) -> {local date: points}
    source_key convention: "activity:<id>" for activities, "checkin:<location_id>:<checkin_id>" for check-ins
scoring.leaderboards
    board(session, contest_id, scope, period=Period.ALL, *, at=None, tz="UTC", limit=20, cursor=None,
          period_key=None, labels=True) -> BoardPage(rows=[BoardRow(rank, subject_id, points, label, is_alias)],
          next_cursor, period_key)
    around(session, contest_id, scope, period, subject_id, k=3, *, at=None, tz="UTC", labels=True) -> [BoardRow]
    rank_of(session, contest_id, scope, period, subject_id, *, at=None, tz="UTC") -> BoardRow | None
    label_rows(session, scope, rows); alias_for(user_id)
scoring.streaks
    streak(session, contest_id, user_id, threshold, unit="day"|"week", tz="UTC", today=None) -> Streak
scoring.badges
    evaluate(session, contest_id, user_ids, context=None) -> [BadgeAward]   new awards only; exactly once
    ensure_definitions(session) -> built-in BadgeDefinitions (data: scoring.badge_catalogue)
scoring.openbadges
    credential(award, user, base_url, secret) -> dict  Open Badges 3.0 OpenBadgeCredential (unsigned)
scoring.periods
    local_day(at, tz), period_key(period, day), current_key(period, at, tz), week_start(day), period_end_utc(...)
Storage: PointsEntry (ledger), LeaderboardTotal (board lines) and LeaderboardBucket (rank histogram) are
written only by scoring.ledger/scoring.totals; Redis sorted sets mirror the lines after commit
(scoring.boards.redis_write). Ranks on SQL: scoring.boards.sql; on Redis: scoring.boards.redis_read.
HTTP (scoring.api, /api/v1): GET /me/badges, GET /badge-awards/{id}/credential, GET /activity-types
CLI: vcc rescore CHALLENGE_ID
"""
