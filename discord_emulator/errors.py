"""Discord's JSON error responses, and the exceptions the emulator raises in tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
ErrorPath = tuple[str | int, ...]


class DiscordApiError(Exception):
    """An error the emulator answers with, in Discord's shape: ``{"code", "message"[, "errors"]}``."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    @classmethod
    def unauthorized(cls) -> DiscordApiError:
        return cls(401, 0, "401: Unauthorized")

    @classmethod
    def not_found(cls) -> DiscordApiError:
        return cls(404, 0, "404: Not Found")

    @classmethod
    def method_not_allowed(cls) -> DiscordApiError:
        return cls(405, 0, "405: Method Not Allowed")

    @classmethod
    def unknown_channel(cls) -> DiscordApiError:
        return cls(404, 10003, "Unknown Channel")

    @classmethod
    def unknown_guild(cls) -> DiscordApiError:
        return cls(404, 10004, "Unknown Guild")

    @classmethod
    def unknown_member(cls) -> DiscordApiError:
        return cls(404, 10007, "Unknown Member")

    @classmethod
    def unknown_message(cls) -> DiscordApiError:
        return cls(404, 10008, "Unknown Message")

    @classmethod
    def unknown_role(cls) -> DiscordApiError:
        return cls(404, 10011, "Unknown Role")

    @classmethod
    def unknown_user(cls) -> DiscordApiError:
        return cls(404, 10013, "Unknown User")

    @classmethod
    def unknown_emoji(cls) -> DiscordApiError:
        return cls(400, 10014, "Unknown Emoji")

    @classmethod
    def unknown_webhook(cls) -> DiscordApiError:
        return cls(404, 10015, "Unknown Webhook")

    @classmethod
    def unknown_interaction(cls) -> DiscordApiError:
        return cls(404, 10062, "Unknown interaction")

    @classmethod
    def unknown_command(cls) -> DiscordApiError:
        return cls(404, 10063, "Unknown application command")

    @classmethod
    def missing_access(cls) -> DiscordApiError:
        return cls(403, 50001, "Missing Access")

    @classmethod
    def cannot_edit_others_message(cls) -> DiscordApiError:
        return cls(403, 50005, "Cannot edit a message authored by another user")

    @classmethod
    def empty_message(cls) -> DiscordApiError:
        return cls(400, 50006, "Cannot send an empty message")

    @classmethod
    def missing_permissions(cls) -> DiscordApiError:
        return cls(403, 50013, "Missing Permissions")

    @classmethod
    def wrong_channel_type(cls) -> DiscordApiError:
        return cls(400, 50024, "Cannot execute action on this channel type")

    @classmethod
    def invalid_webhook_token(cls) -> DiscordApiError:
        return cls(401, 50027, "Invalid Webhook Token")

    @classmethod
    def already_crossposted(cls) -> DiscordApiError:
        return cls(400, 40033, "This message has already been crossposted.")

    @classmethod
    def already_acknowledged(cls) -> DiscordApiError:
        return cls(400, 40060, "Interaction has already been acknowledged.")

    @classmethod
    def thread_already_created(cls) -> DiscordApiError:
        return cls(400, 160004, "A thread has already been created for this message")

    @classmethod
    def invalid_form_body(cls, errors: JSON) -> DiscordApiError:
        return cls(400, 50035, "Invalid Form Body", errors)


class FormErrors:
    """Collects field errors into Discord's nested ``errors``: ``{"embeds": {"0": {"title": ...}}}``."""

    def __init__(self) -> None:
        self._tree: JSON = {}

    def add(self, path: ErrorPath, code: str, message: str) -> None:
        node = self._tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: ErrorPath, limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: ErrorPath, low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: ErrorPath) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def __bool__(self) -> bool:
        return bool(self._tree)

    def raise_if_any(self) -> None:
        if self._tree:
            raise DiscordApiError.invalid_form_body(self._tree)


@dataclass(frozen=True, slots=True)
class ApiErrorRecord:
    """An error response the emulator sent to the bot, kept so tests can assert on it."""

    method: str
    path: str
    status: int
    code: int
    message: str
    errors: JSON | None


class EmulatorError(Exception):
    """Base class of the exceptions the emulator raises inside tests."""


class CommandUsageError(EmulatorError, ValueError):
    """The test asked for something a Discord user could not do (unknown command, bad option, no button)."""


class InteractionTimeout(EmulatorError, AssertionError):
    """The bot did not answer an interaction in time (a user would see "The application did not respond").

    ``result`` is what the user saw when the emulator gave up, including any rejected answers.
    """

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class InteractionFailed(EmulatorError, AssertionError):
    """Every answer the bot gave to an interaction was rejected by the API."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result
