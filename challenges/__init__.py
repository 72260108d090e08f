"""The VCC product: challenges, taking part, check-in places, activity ingest, and standings.

The cut follows the imports, which run one way (a contract in pyproject.toml forbids cycles between the rooms):

    api, demo, cli, exports       wiring: every blueprint in one list, the demo, the `vcc` commands
      standings/                  named boards, my progress, the organiser report (boards, reports)
      activities/                 activity in: ingest, pipeline, crediting to challenges, dedupe, plausibility,
                                  files, health mappings, distance samples, review, bulk rows, weekly WHO summary
      places/                     check-in places: locations, QR tokens, geofence, check-ins
      participation/              enrolment (join/leave, organisation resolution) and teams
    the core, at the top level:   models (Challenge, Team, Enrolment, Location, CheckIn: one aggregate, deleted
                                  with its challenge), formats (the format registry), limits (a challenge's own
                                  plausibility limits), access, lifecycle, discovery, editions, schemas

Each sub-package has the same rooms: ``api.py`` (thin flask-smorest blueprints and a ``blueprints`` list),
``schemas.py`` (marshmallow), ``models.py`` where it owns tables (activities), and plain logic modules that
take a session and values.

Interface for the other parts of challenges/ and for notifications/:

- ``challenges.models``: ``Challenge`` (organisation_id, title, description, setting, metric
  (``scoring.types.Metric``), format individual|team|organisation|collective, goal (metric units),
  starts_at/ends_at (aware UTC; entered in ``timezone``), visibility public|invite + invite_code, status
  draft|published|ended with ``Challenge.phase(now)`` -> draft|upcoming|running|ended, allowed_types,
  daily_cap, vigorous_counts_double, grace_days (late sync), region, team_size_cap, participants_create_teams);
  ``Team``; ``Enrolment`` (one row per user and challenge, ``left_at`` set while away); ``Location``;
  ``CheckIn`` (unique per user, location and local day).
- ``challenges.formats.format_of(challenge)``: what the format decides (whom points count for, which boards
  fill, what the goal is a goal of, whether teams exist and how people get into them, what the report groups
  by). Nothing else compares ``challenge.format``; a test checks it.
- ``challenges.lifecycle.rules_for(challenge) -> scoring.types.ScoringRules``.
- ``challenges.participation.enrolment.active_enrolments(session, user_id, at, now=None)``: the published (or
  ended) challenges the user is enrolled in whose window contains ``at``, while ``now`` is within
  ``grace_days`` after the end; ``accepts_activity_at(challenge, at, now=None)``: the same rule for one;
  ``subject_for(challenge, enrolment) -> scoring.types.Subject``: the format's answer.

HTTP: ``challenges.api.blueprints`` lists every resource of the package, all under /api/v1 (challenges and
their badges, enrolment, teams, locations, check-ins, leaderboards, progress, report, activities, review,
my challenges and my weeks).
"""
