"""The VCC product: challenges, enrolment, teams, check-ins and activity ingest.

Interface for the other parts of challenges/ (activity ingest) and for notifications/:

- ``challenges.models``: ``Challenge`` (organisation_id, title, description, setting, metric
  (``scoring.types.Metric``), format individual|team|organisation|collective, goal (metric units),
  starts_at/ends_at (aware UTC; entered in ``timezone``), visibility public|invite + invite_code,
  status draft|published|ended with ``Challenge.phase(now)`` -> draft|upcoming|running|ended,
  allowed_types (list of type codes or None = all), daily_cap, vigorous_counts_double, grace_days (late sync),
  region, team_size_cap, participants_create_teams); ``Team`` (challenge_id, name, code, organisation_id?);
  ``Enrolment`` (challenge_id, user_id, team_id?, organisation_id?, joined_at, left_at; one row per user and
  challenge, ``left_at`` set while away); ``Location`` (challenge_id, name, lat, lon, radius_m, qr_secret,
  archived_at); ``CheckIn`` (user_id, location_id, challenge_id, at, local_day, method geofence|qr; unique per
  user, location and local day).
- ``challenges.lifecycle.rules_for(challenge) -> scoring.types.ScoringRules``.
- ``challenges.enrolment.active_enrolments(session, user_id, at, now=None) -> list[(Challenge, Enrolment)]``:
  the published (or ended) challenges the user is enrolled in (not left) whose window [starts_at, end)
  contains ``at`` (when the activity happened), while ``now`` is still within ``grace_days`` after the end.
- ``challenges.enrolment.accepts_activity_at(challenge, at, now=None) -> bool``: the same window rule for one
  challenge (use it to flag activity that is outside the window or later than the grace period).
- ``challenges.enrolment.subject_for(challenge, enrolment) -> scoring.types.Subject``: team format -> user +
  team_id (+ the team's organisation_id); organisation format -> user + organisation_id (the participant's
  organisation is their team); individual and collective -> the user only.

Modules of the challenge side: ``lifecycle`` (create/edit/publish/end; rule fields are locked once running,
409 ``rules-locked``, instead of rescoring), ``access`` (visibility and per-organisation organiser checks),
``discovery`` (public list with filters and keyset pagination), ``enrolment`` (join/leave, invite codes,
organisation resolution), ``teams`` (codes, size caps), ``locations``, ``qr`` (HMAC tokens of location id and
time window, current and previous window accepted), ``checkins`` (geofence or QR, once per location per local
day, scored as type ``checkin`` with source key ``checkin:<location>:<local day>:<user>``), ``standings``
(named boards, my progress, collective progress), ``reports`` (aggregates with small-group suppression).
HTTP (``challenges_api.blueprints``), all under /api/v1/challenges: GET/POST ``""``, GET/PATCH ``/{id}``,
POST ``/{id}/publish`` and ``/{id}/end``, GET/POST/DELETE ``/{id}/enrolment``, GET/POST ``/{id}/teams``,
GET/POST ``/{id}/locations``, PATCH/DELETE ``/{id}/locations/{lid}``, GET ``/{id}/locations/{lid}/qr``,
GET/POST ``/{id}/checkins``, GET ``/{id}/leaderboards``, GET ``/{id}/progress``, GET ``/{id}/report``.
"""
