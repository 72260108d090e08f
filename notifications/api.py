"""HTTP surface of notifications (thin: parse, authorise, call logic, serialise).

/me/devices, /me/notification-preferences, /me/notifications (the inbox) and organiser announcements at
/challenges/{id}/announcements (organisers and admins of the challenge's own organisation only).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

import notifications.erasure  # connects the user-deleted reaction
import notifications.exports  # noqa: F401  (connects the export sections)
from challenges.access import managed_challenge
from notifications import announcements, devices, inbox, preferences
from notifications.models import Announcement, DeviceToken, Nudge
from notifications.schemas import (
    AnnouncementCreateSchema,
    AnnouncementSchema,
    DeviceCreateSchema,
    DeviceSchema,
    InboxArgsSchema,
    NotificationPageSchema,
    NotificationSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
    ReadAllSchema,
)
from service.auth import auth_required, current_user
from service.db import db

devices_blp = Blueprint("devices", __name__, url_prefix="/api/v1/me/devices",
                        description="Push device tokens of the signed-in person.")
prefs_blp = Blueprint("notification-preferences", __name__, url_prefix="/api/v1/me/notification-preferences",
                      description="Which nudges to get, quiet hours and daily caps.")
inbox_blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me/notifications",
                      description="The in-app inbox of nudges.")
announce_blp = Blueprint("announcements", __name__, url_prefix="/api/v1/challenges",
                         description="Organiser announcements to every participant of a challenge.")


@devices_blp.route("")
class Devices(MethodView):
    @auth_required
    @devices_blp.response(200, DeviceSchema(many=True))
    def get(self) -> list[DeviceToken]:
        """List my registered devices"""
        return devices.list_devices(db.session, current_user().id)

    @auth_required
    @devices_blp.arguments(DeviceCreateSchema)
    @devices_blp.response(201, DeviceSchema)
    @devices_blp.alt_response(200, schema=DeviceSchema, description="the token was already registered")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a device token (idempotent: the same token again refreshes it)"""
        device, created = devices.register_device(db.session, current_user().id, **data)
        db.session.commit()
        return device, 201 if created else 200


@devices_blp.route("/<int:device_id>")
class DeviceById(MethodView):
    @auth_required
    @devices_blp.response(204)
    def delete(self, device_id: int) -> None:
        """Remove a device (e.g. at sign-out)"""
        devices.remove_device(db.session, current_user().id, device_id)
        db.session.commit()


@prefs_blp.route("")
class Preferences(MethodView):
    @auth_required
    @prefs_blp.response(200, PreferencesSchema)
    def get(self) -> dict[str, Any]:
        """Read my notification preferences (every kind, with defaults filled in)"""
        return preferences.describe(db.session, current_user().id)

    @auth_required
    @prefs_blp.arguments(PreferencesUpdateSchema)
    @prefs_blp.response(200, PreferencesSchema)
    def patch(self, data: dict[str, Any]) -> dict[str, Any]:
        """Change my notification preferences (only the fields sent change)"""
        result = preferences.update_preferences(db.session, current_user().id, data)
        db.session.commit()
        return result


@inbox_blp.route("")
class Inbox(MethodView):
    @auth_required
    @inbox_blp.arguments(InboxArgsSchema, location="query")
    @inbox_blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List my notifications, newest first"""
        return inbox.page(db.session, current_user().id, limit=args["limit"], cursor=args["cursor"],
                          unread=args["unread"])


@inbox_blp.route("/read")
class ReadAll(MethodView):
    @auth_required
    @inbox_blp.response(200, ReadAllSchema)
    def post(self) -> dict[str, int]:
        """Mark all my notifications read"""
        marked = inbox.mark_all_read(db.session, current_user().id)
        db.session.commit()
        return {"marked": marked}


@inbox_blp.route("/<int:notification_id>/read")
class ReadOne(MethodView):
    @auth_required
    @inbox_blp.response(200, NotificationSchema)
    def post(self, notification_id: int) -> Nudge:
        """Mark one notification read"""
        nudge = inbox.mark_read(db.session, current_user().id, notification_id)
        db.session.commit()
        return nudge


@announce_blp.route("/<int:challenge_id>/announcements")
class Announcements(MethodView):
    @auth_required
    @announce_blp.response(200, AnnouncementSchema(many=True))
    def get(self, challenge_id: int) -> list[Announcement]:
        """List a challenge's announcements (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        return announcements.list_announcements(db.session, challenge.id)

    @auth_required
    @announce_blp.arguments(AnnouncementCreateSchema)
    @announce_blp.response(201, AnnouncementSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> Announcement:
        """Schedule an announcement to every participant (organisers of the challenge's organisation)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        item = announcements.create_announcement(db.session, challenge, current_user(), **data)
        db.session.commit()
        return item


blueprints: list[Blueprint] = [devices_blp, prefs_blp, inbox_blp, announce_blp]
