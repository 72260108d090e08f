"""Reading ``FIREBASE_CREDENTIALS``: a path to the service-account JSON, or the JSON text itself.

Both sign-in (service.firebase_auth) and push delivery (notifications) read it through here, so the two
never disagree about what an operator may put in the variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_service_account(source: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    text = source.strip()
    if not text.startswith(("{", "[")):
        text = Path(text).read_text(encoding="utf-8")
    info = json.loads(text)
    if not isinstance(info, dict):
        raise ValueError("FIREBASE_CREDENTIALS must hold a service-account JSON object")
    return info
