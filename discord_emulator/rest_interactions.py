"""Emulated interaction routes: the initial callback, follow-ups and the original response."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from discord_emulator.core import Core, InteractionRecord
from discord_emulator.errors import ApiErrorRecord, DiscordApiError
from discord_emulator.rest import RestApi, body_of, files_of, json_response, no_content, snowflake
from discord_emulator.state import CHAT_INPUT_COMMAND, EPHEMERAL, LOADING, Message
from discord_emulator.validation import validate_choices, validate_message_body, validate_modal

log = logging.getLogger(__name__)

JSON = dict[str, Any]

PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CONTEXT_MENU_COMMAND = 23
# "User-installed apps are now limited to creating a maximum of 5 follow-ups when responding to
# interactions ... apps installed to the server are unaffected" (change-log.mdx, June 27 2024); the
# error is 40094 (topics/opcodes-and-status-codes.mdx), its HTTP status undocumented (400 here).
USER_INSTALL_FOLLOWUP_LIMIT = 5

# Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}


class InteractionRoutes:
    """Handlers for ``/interactions/{id}/{token}/callback`` and ``/webhooks/{application_id}/{token}...``."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, api: RestApi) -> None:
        api.route("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self.callback)
        api.route("POST", "/webhooks/{webhook_id}/{webhook_token}", self.followup)
        path = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        api.route("GET", path, self.get_message)
        api.route("PATCH", path, self.edit_message)
        api.route("DELETE", path, self.delete_message)

    def record_error(self, request: web.Request, error: ApiErrorRecord) -> None:
        """Attach an error answer to the interaction whose token the request carried."""
        token = request.match_info.get("interaction_token") or request.match_info.get("webhook_token")
        record = self.core.interactions_by_token.get(token or "")
        if record is not None:
            record.errors.append(error)
            record.touch(self.core.now())

    # --------------------------------------------------------------- callback
    async def callback(self, request: web.Request) -> web.Response:
        core = self.core
        record = core.interactions.get(snowflake(request, "interaction_id"))
        if record is None or record.token != request.match_info["interaction_token"]:
            raise DiscordApiError.unknown_interaction()
        if record.response_type is not None:
            raise DiscordApiError.already_acknowledged()
        if core.now() - record.created_at > core.config.interaction_response_window:
            raise DiscordApiError.unknown_interaction()
        body = body_of(request)
        kind = body.get("type")
        allowed = ALLOWED_CALLBACKS[record.type]
        if kind not in allowed:
            raise DiscordApiError.invalid_form_body(
                {
                    "type": {
                        "_errors": [
                            {"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of {allowed}."}
                        ]
                    }
                }
            )
        data = body.get("data") or {}
        message: Message | None = None
        if kind == CHANNEL_MESSAGE:
            message = self._respond_with_message(record, data, files_of(request), loading=False)
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            message = self._respond_with_message(record, data, [], loading=True)
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            message = self._source_message(record)
            if kind == UPDATE_MESSAGE:
                core.edit_message(message, data, files_of(request), error_prefix=("data",))
                core.dispatch_message_update(message)
            record.original_message_id = message.id
        elif kind == AUTOCOMPLETE_RESULT:
            record.choices = validate_choices(data)
        elif kind == MODAL:
            validate_modal(data)
            record.modal = data
        record.response_type = kind
        record.responded_at = core.now()
        record.touch(core.now())
        log.info("emulator: interaction %s answered with callback type %s", record.id, kind)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        return json_response(self._callback_response(record, kind, message))

    def _respond_with_message(
        self, record: InteractionRecord, data: JSON, files: list[Any], *, loading: bool
    ) -> Message:
        core = self.core
        channel = core.state.channel(record.channel_id)
        ephemeral = int(data.get("flags") or 0) & EPHEMERAL or (EPHEMERAL if record.forced_ephemeral else 0)
        if record.type == 2:
            message_type = CHAT_INPUT_COMMAND if record.command_type in (None, 1) else CONTEXT_MENU_COMMAND
        else:
            message_type = 0
        body = {"content": ""} if loading else data
        message = core.create_message(
            channel,
            core.state.bot,
            body,
            files,
            error_prefix=("data",),
            message_type=message_type,
            extra_flags=ephemeral | (LOADING if loading else 0),
            webhook_id=core.state.application_id,
            interaction_metadata=record.metadata(),
            validate=not loading,
        )
        record.original_message_id = message.id
        message.interaction_metadata = record.metadata()
        core.dispatch_message_create(message)
        return message

    def _source_message(self, record: InteractionRecord) -> Message:
        message = (
            None
            if record.source_message_id is None
            else self.core.state.messages.get(record.source_message_id)
        )
        if message is None or message.deleted:
            raise DiscordApiError.unknown_message()
        return message

    def _callback_response(self, record: InteractionRecord, kind: int, message: Message | None) -> JSON:
        interaction: JSON = {"id": str(record.id), "type": record.type}
        resource: JSON = {"type": kind}
        if message is not None:
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = bool(message.flags & LOADING)
            interaction["response_message_ephemeral"] = message.ephemeral
            resource["message"] = self.core.state.message_payload(message)
        return {"interaction": interaction, "resource": resource}

    # -------------------------------------------------------------- webhooks
    def _record_for_webhook(self, request: web.Request) -> InteractionRecord:
        core = self.core
        if snowflake(request, "webhook_id") != core.state.application_id:
            raise DiscordApiError.unknown_webhook()
        record = core.interactions_by_token.get(request.match_info["webhook_token"])
        if record is None or core.now() - record.created_at > core.config.interaction_token_lifetime:
            raise DiscordApiError.invalid_webhook_token()
        return record

    def _webhook_message(self, request: web.Request, record: InteractionRecord) -> Message:
        raw = request.match_info["message_id"]
        if raw == "@original":
            message_id = record.original_message_id
        elif raw.isdigit() and (int(raw) in record.followup_ids or int(raw) == record.original_message_id):
            message_id = int(raw)
        else:
            message_id = None
        message = None if message_id is None else self.core.state.messages.get(message_id)
        if message is None or message.deleted:
            raise DiscordApiError.unknown_message()
        return message

    async def followup(self, request: web.Request) -> web.Response:
        core = self.core
        record = self._record_for_webhook(request)
        if record.response_type is None:
            raise DiscordApiError.unknown_webhook()
        body = body_of(request)
        files = files_of(request)
        original = (
            None
            if record.original_message_id is None
            else core.state.messages.get(record.original_message_id)
        )
        if original is not None and original.flags & LOADING and not original.deleted:
            # After a deferral the first follow-up replaces the "thinking..." message, keeping its visibility.
            validate_message_body(body, creating=True, has_files=bool(files))
            core.edit_message(original, body, files)
            original.flags &= ~LOADING
            original.edited_timestamp = None
            message = original
            core.dispatch_message_update(message)
        else:
            if record.user_install_only and len(record.followup_ids) >= USER_INSTALL_FOLLOWUP_LIMIT:
                raise DiscordApiError(
                    400, 40094, "This interaction has hit the maximum number of follow up messages"
                )
            channel = core.state.channel(record.channel_id)
            thread_id = request.query.get("thread_id")
            if thread_id is not None and thread_id.isdigit():
                channel = core.state.channel(int(thread_id))
            message = core.create_message(
                channel,
                core.state.bot,
                body,
                files,
                extra_flags=int(body.get("flags") or 0) & EPHEMERAL
                or (EPHEMERAL if record.forced_ephemeral else 0),
                webhook_id=core.state.application_id,
                interaction_metadata=record.metadata(),
            )
            record.followup_ids.append(message.id)
            core.dispatch_message_create(message)
        record.touch(core.now())
        log.info("emulator: interaction %s follow-up: %r", record.id, message.content[:80])
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(core.state.message_payload(message))
        return no_content()

    async def get_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        return json_response(self.core.state.message_payload(self._webhook_message(request, record)))

    async def edit_message(self, request: web.Request) -> web.Response:
        core = self.core
        record = self._record_for_webhook(request)
        message = self._webhook_message(request, record)
        body = body_of(request)
        files = files_of(request)
        if message.flags & LOADING:
            # Completing a deferral: the result must not be an empty message.
            merged = {"content": message.content, **body}
            validate_message_body(merged, creating=True, has_files=bool(files) or bool(message.attachments))
        core.edit_message(message, body, files)
        if message.flags & LOADING:
            message.flags &= ~LOADING
            message.edited_timestamp = None
        core.dispatch_message_update(message)
        record.touch(core.now())
        return json_response(core.state.message_payload(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        message = self._webhook_message(request, record)
        message.deleted = True
        self.core.dispatch_message_delete(message)
        record.touch(self.core.now())
        return no_content()
