"""The VCC product: challenges, enrolment, teams, check-ins and activity ingest."""
