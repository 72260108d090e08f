"""Nudges: planning, scheduling, device tokens, preferences and FCM delivery."""
