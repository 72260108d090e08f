"""Check-in places: ``locations`` of a challenge, ``qr`` tokens that rotate per time window, ``geo`` distances
for geofences, and ``checkins`` (once per place and local day, scored as the ``checkin`` type)."""
