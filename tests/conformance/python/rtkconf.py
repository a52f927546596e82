"""Helpers of the conformance suites: what the installed SDK can do, the preset documents its
strict validation accepts, and small assertions on envelopes, times and tokens."""

import base64
import copy
import inspect
import json
import uuid
from datetime import datetime, timezone

import cloudflare
import cloudflare.resources.realtime_kit as rk
import pytest

SDK_VERSION = tuple(int(x) for x in cloudflare.__version__.split(".")[:3])

# The preset document changed shape between the SDK generations we pin (see ../NOTES.md):
# 5.0.0 wants rounded/thin/dark design tokens, a `logo`, integer sizes and a single
# plugins.config object; 5.9.0 widens all of that and makes plugins.config a map.
LEGACY_PRESETS = SDK_VERSION < (5, 9, 0)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sdk_has(method: str, *params: str) -> bool:
    """Whether `group.method` exists in the installed SDK and takes every one of `params`."""
    group, name = method.split(".")
    resource = getattr(rk, "".join(w.capitalize() for w in group.split("_")) + "Resource", None)
    fn = getattr(resource, name, None)
    if fn is None:
        return False
    accepted = inspect.signature(fn).parameters
    return all(p in accepted for p in params)


def sdk_param_optional(method: str, param: str) -> bool:
    """Whether `group.method` of the installed SDK takes `param` with a default."""
    group, name = method.split(".")
    resource = getattr(rk, "".join(w.capitalize() for w in group.split("_")) + "Resource")
    p = inspect.signature(getattr(resource, name)).parameters.get(param)
    return p is not None and p.default is not inspect.Parameter.empty


def needs(method: str, *params: str):
    """Skips a test when the installed SDK lacks the method or one of its parameters."""
    what = f"{method}({', '.join(params)})" if params else method
    return pytest.mark.skipif(
        not sdk_has(method, *params), reason=f"cloudflare {cloudflare.__version__} has no {what}"
    )


# ---------------------------------------------------------------------------------------------
# Preset documents


def _colors(shade: int) -> dict:
    return {
        "background": {"1000": "#010101", "600": "#222222", "700": "#1f1f1f", "800": "#1b1b1b", "900": "#181818"},
        "brand": {"300": "#844d1c", "400": "#9d5b22", "500": f"#b5{shade:02x}27", "600": "#d37c30", "700": "#d9904f"},
        "danger": "#FF2D2D",
        "success": "#62A504",
        "text": "#EEEEEE",
        "text_on_brand": "#EEEEEE",
        "video_bg": "#191919",
        "warning": "#FFCD07",
    }


def _permissions(variant: int) -> dict:
    on = variant == 0
    return {
        "accept_waiting_requests": on,
        "can_accept_production_requests": True,
        "can_change_participant_permissions": on,
        "can_edit_display_name": True,
        "can_livestream": not on,
        "can_record": on,
        "can_spotlight": True,
        "chat": {
            "private": {"can_receive": True, "can_send": on, "files": False, "text": True},
            "public": {"can_send": True, "files": on, "text": True},
        },
        "connected_meetings": {
            "can_alter_connected_meetings": on,
            "can_switch_connected_meetings": True,
            "can_switch_to_parent_meeting": not on,
        },
        "disable_participant_audio": False,
        "disable_participant_screensharing": not on,
        "disable_participant_video": False,
        "hidden_participant": False,
        "kick_participant": on,
        "media": {
            "audio": {"can_produce": "ALLOWED"},
            "screenshare": {"can_produce": "CAN_REQUEST" if on else "NOT_ALLOWED"},
            "video": {"can_produce": "ALLOWED" if on else "CAN_REQUEST"},
        },
        "pin_participant": True,
        "plugins": {"can_close": on, "can_edit_config": False, "can_start": True, "config": None},
        "polls": {"can_create": on, "can_view": True, "can_vote": True},
        "recorder_type": "NONE" if on else "RECORDER",
        "show_participant_list": True,
        "waiting_room_type": "SKIP" if on else "ON_PRIVILEGED_USER_ENTRY",
        "is_recorder": False,
    }


def preset_document(name: str, variant: int = 0, *, legacy: bool = LEGACY_PRESETS) -> dict:
    """A whole preset document (name, config, permissions, ui) that the given SDK generation's
    strict response validation accepts when the server echoes it. `variant` 0 and 1 differ in
    most leaves, so replace/update tests can tell them apart."""
    on = variant == 0
    config = {
        "max_screenshare_count": 1 if on else 2,
        "max_video_streams": {"desktop": 6 if on else 9, "mobile": 4 if on else 2},
        "media": {
            "screenshare": {"frame_rate": 5 if on else 10, "quality": "vga" if on else "hd"},
            "video": {"frame_rate": 30 if on else 24, "quality": "hd" if on else "qvga"},
            "audio": {"enable_high_bitrate": on, "enable_stereo": not on},
        },
        "view_type": "GROUP_CALL" if on else "WEBINAR",
    }
    permissions = _permissions(variant)
    tokens = {
        "border_radius": "rounded",
        "border_width": "thin",
        "colors": _colors(0x69 if on else 0x42),
        "spacing_base": 4 if on else 8,
        "theme": "dark",
        "logo": f"https://example.com/logo-{variant}.png",
    }
    if legacy:
        # 5.0.0: plugins.config is a string or one {access_control, handles_view_only} object.
        permissions["plugins"]["config"] = {"access_control": "VIEW_ONLY" if on else "FULL_ACCESS", "handles_view_only": on}
    else:
        # 5.9.0: wider enums and the fields the newer generation added.
        config["media"]["video"]["simulcast"] = on
        config["media"]["video"]["quality"] = "fhd" if on else "uhd"
        config["view_type"] = "LIVESTREAM" if on else "AUDIO_ROOM"
        config["livestream_viewer_qualities"] = [360, 720] if on else [1080]
        permissions["plugins"]["config"] = {
            "whiteboard": {"access_control": "FULL_ACCESS", "handles_view_only": False},
            "doc-share": {"access_control": "VIEW_ONLY" if on else "FULL_ACCESS", "handles_view_only": on},
        }
        permissions.update(
            accept_stage_requests=on,
            stage_access="CAN_REQUEST" if on else "ALLOWED",
            stage_enabled=True,
            transcription_enabled=not on,
        )
        tokens.update(
            border_radius="extra-rounded" if on else "sharp",
            border_width="fat" if on else "none",
            theme="light" if on else "darkest",
            font_family="Inter",
            google_font="Inter" if on else "Roboto",
        )
    return {"name": name, "config": config, "permissions": permissions, "ui": {"design_tokens": tokens}}


SERVER_OWNED = ("id", "created_at", "updated_at")


def document_of(model) -> dict:
    """The preset document a response carries: everything but the server-owned keys."""
    d = model.to_dict()
    for k in SERVER_OWNED:
        d.pop(k, None)
    return d


def deep_merge(base: dict, patch: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


# ---------------------------------------------------------------------------------------------
# Envelopes, times, tokens


def paging(resp) -> dict:
    """The `paging` of a list response as a dict (5.0.0's apps list has no paging in its model,
    so there it is an extra field: a plain dict)."""
    p = getattr(resp, "paging", None)
    assert p is not None, "response has no paging"
    return p if isinstance(p, dict) else p.to_dict()


def as_datetime(v) -> datetime:
    """A timestamp as an aware datetime, whether the SDK typed it `datetime` or `str`."""
    if isinstance(v, datetime):
        return v
    assert isinstance(v, str), f"not a timestamp: {v!r}"
    assert v.endswith("Z"), f"not RFC 3339 UTC with Z: {v!r}"
    return datetime.fromisoformat(v[:-1] + "+00:00")


def assert_recent(v, slack_s: float = 300.0) -> datetime:
    dt = as_datetime(v)
    assert dt.tzinfo is not None and dt.utcoffset().total_seconds() == 0
    age = (datetime.now(timezone.utc) - dt).total_seconds()
    assert -slack_s < age < slack_s, f"timestamp {v!r} is not now"
    return dt


def jwt_claims(token: str) -> dict:
    parts = token.split(".")
    assert len(parts) == 3 and all(parts), f"not a JWT: {token!r}"
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def assert_api_error(excinfo, status: int, fragment: str) -> None:
    """The SDK raised for `status`, and the server's message reached the exception."""
    e = excinfo.value
    assert e.status_code == status, str(e)
    assert fragment in str(e), f"{fragment!r} not in {str(e)!r}"
    body = e.body
    assert isinstance(body, dict) and body.get("success") is False, body
    assert body["error"]["code"] == status, body
    assert any(fragment in item["message"] for item in body["errors"]), body
