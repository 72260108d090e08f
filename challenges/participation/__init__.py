"""Taking part: ``enrolment`` (join, leave, invite codes, the organisation a participant competes for) and
``teams`` (codes, size caps, rosters, moves). What a format allows is asked of ``challenges.formats``."""
