"""Tests acting as Discord users: run a slash command, autocomplete, click, select, submit a modal."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from discord_emulator.core import Core, InteractionRecord
from discord_emulator.errors import CommandUsageError, InteractionFailed, InteractionTimeout
from discord_emulator.gateway import Gateway
from discord_emulator.interactions import (
    InteractionResult,
    OptionBuilder,
    find_component,
    is_answered,
    modal_submission,
    nest_options,
    resolve_command_path,
    snapshot,
    walk_components,
)
from discord_emulator.permissions import Permission
from discord_emulator.state import ChangeSignal, Channel, DiscordState, Guild, Member

JSON = dict[str, Any]
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
# After an answer is rejected, how long the bot may take to try again (say, from its error handler)
# before the helpers stop waiting. discord.py raises a 4xx to the bot at once, so this is generous.
REJECTED_ANSWER_GRACE = 0.5

# The helpers take ``timeout=`` like every test wait does; ASYNC109's asyncio.timeout advice does not
# fit because a timeout here becomes a descriptive InteractionTimeout, not a CancelledError.


class UserActions:
    """Mixed into ``DiscordEmulator``: what a person in a Discord client can do, and waiting for it."""

    state: DiscordState
    _core: Core
    _gateway: Gateway
    _changes: ChangeSignal

    async def wait_until_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot identified and has processed READY and every GUILD_CREATE
        (``bot.get_guild`` works); discord.py's own ``on_ready`` may come ``guild_ready_timeout`` later."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self._wait_until_connected(timeout)
        await self._gateway.flush(max(deadline - loop.time(), 0.1))

    async def _wait_until_connected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the bot identified and was sent READY. An interaction needs no more: events
        reach the bot in order on one socket and discord.py parses them in order, so it sees every
        change sent before the interaction. A flush would ask the bot for a heartbeat, which
        discord.py sends through its gateway rate limiter (110 sends a minute), and past that its
        reading stalls: a test of a few hundred commands would see the bot freeze as Discord never
        makes it."""
        ready = await self._changes.wait_until(
            lambda: self._gateway.ready_sent and self._gateway.connected, timeout
        )
        if not ready:
            raise TimeoutError(f"the bot did not connect to the gateway within {timeout}s")

    # ------------------------------------------------------------- interactions
    def _check_member(self, member: Member, channel: Channel) -> int:
        if member.guild_id != channel.guild_id or member.id not in self.state.guild_of(channel).members:
            raise CommandUsageError(f"{member.name} is not a member of the channel's guild")
        bits = self.state.permissions_in(channel, member)
        if not bits & Permission.VIEW_CHANNEL:
            raise CommandUsageError(f"{member.name} cannot see #{channel.name}")
        return bits

    def _dispatch_interaction(
        self,
        kind: int,
        member: Member,
        channel: Channel,
        data: JSON,
        *,
        message_id: int | None = None,
        command: JSON | None = None,
    ) -> InteractionRecord:
        if self._gateway.session is None:
            raise RuntimeError("the bot has no gateway session; start it and await wait_until_ready()")
        guild = self.state.guild_of(channel)
        record = InteractionRecord(
            id=self.state.snowflakes.next(),
            token=secrets.token_urlsafe(96),
            type=kind,
            guild_id=guild.id,
            channel_id=channel.id,
            user=member.user,
            created_at=self._core.now(),
            command_name=None if command is None else command["name"],
            command_type=None if command is None else command.get("type", 1),
            source_message_id=message_id,
        )
        record.touch(self._core.now())
        member_bits = self.state.permissions_in(channel, member)
        payload: JSON = {
            "id": str(record.id),
            "application_id": str(self.state.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": {**channel.payload(), "permissions": str(member_bits)},
            "member": member.payload(permissions=member_bits),
            "token": record.token,
            "version": 1,
            "app_permissions": str(self.state.bot_permissions_in(channel)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message_id is not None:
            payload["message"] = self.state.message_payload(self.state.messages[message_id])
        self._core.interactions[record.id] = record
        self._core.interactions_by_token[record.token] = record
        if not self._gateway.dispatch("INTERACTION_CREATE", payload, intent=None):
            raise RuntimeError("the bot's gateway session was invalidated; it must IDENTIFY again first")
        return record

    async def _await_result(
        self,
        record: InteractionRecord,
        timeout: float,  # noqa: ASYNC109
        settle: float,
    ) -> InteractionResult:
        window = self._core.config.interaction_response_window

        def finished() -> bool:
            now = self._core.now()
            if is_answered(self.state, record):
                return True
            if record.response_type is not None:
                return False
            # Unanswered: the window closed, or the bot's answer was rejected and it has gone quiet.
            gave_up = bool(record.errors) and now - record.last_activity >= REJECTED_ANSWER_GRACE
            return now - record.created_at > window or gave_up

        done = await self._changes.wait_until(finished, timeout, recheck=0.05)
        if done and settle > 0:
            # Give the bot a moment to send follow-ups or edits that come right after the answer.
            def quiet() -> bool:
                return self._core.now() - record.last_activity >= settle

            await self._changes.wait_until(quiet, timeout, recheck=settle / 4)
        result = snapshot(self.state, record)
        if not is_answered(self.state, record):
            errors = [f"{e.method} {e.path} -> {e.status} {e.code} {e.message}" for e in record.errors]
            if record.response_type is None and record.errors:
                raise InteractionFailed(f"every answer the bot gave was rejected: {errors}", result)
            if record.response_type is None:
                reason = f"the bot did not respond within {window}s"
            else:
                reason = f"the bot deferred but sent nothing within {timeout}s"
            raise InteractionTimeout(f"{reason} (API errors: {errors})", result)
        return result

    def _command_table(self, guild: Guild) -> tuple[dict[tuple[int, str], JSON], set[str]]:
        commands = self._core.commands
        table = dict(commands.global_commands)
        guild_table = commands.guild_commands.get(guild.id, {})
        table.update(guild_table)
        return table, {command["id"] for command in guild_table.values()}

    async def _prepare_command(
        self,
        member: Member,
        channel: Channel,
        command: str,
        values: Mapping[str, Any],
        *,
        focused: str | None,
        timeout: float,  # noqa: ASYNC109
        ignore_default_permissions: bool,
    ) -> tuple[JSON, JSON]:
        await self._wait_until_connected(timeout)
        bits = self._check_member(member, channel)
        guild = self.state.guild_of(channel)
        if not self._core.commands.synced_scopes:
            await self._changes.wait_until(lambda: bool(self._core.commands.synced_scopes), timeout)
        table, guild_ids = self._command_table(guild)
        definition, trail, leaf = resolve_command_path(table, command)
        required = definition.get("default_member_permissions")
        if not ignore_default_permissions:
            if not bits & Permission.USE_APPLICATION_COMMANDS:
                raise CommandUsageError(f"{member.name} may not use application commands in #{channel.name}")
            if required is not None and int(required) & bits != int(required):
                raise CommandUsageError(
                    f"/{definition['name']} is hidden from {member.name}: it needs permissions {required} "
                    "(pass ignore_default_permissions=True to act as if an admin overrode it)"
                )
        builder = OptionBuilder(self.state, member, channel)
        options = nest_options(definition, trail, builder.leaf_options(leaf, values, focused=focused))
        data: JSON = {"id": definition["id"], "name": definition["name"], "type": definition.get("type", 1)}
        if options:
            data["options"] = options
        if builder.resolved:
            data["resolved"] = builder.resolved
        if definition["id"] in guild_ids:
            data["guild_id"] = str(guild.id)
        return definition, data

    async def run_command(
        self,
        member: Member,
        channel: Channel,
        command: str,
        /,
        *,
        options: Mapping[str, Any] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.1,
        ignore_default_permissions: bool = False,
        **values: Any,
    ) -> InteractionResult:
        """``member`` runs ``/command`` (``"episode search"`` for subcommands) in ``channel``.

        Options go by keyword (or ``options={...}`` for names that are not identifiers or that clash
        with ``timeout``/``settle``/``options``/``ignore_default_permissions``) and are checked
        against the synced definition like the Discord client does: unknown command or option, missing
        required option, wrong type, out of range or not a choice raise ``CommandUsageError``. Members,
        users, roles and channels become ids plus ``resolved`` data. Waits until the bot answered (a
        deferral counts once completed), then ``settle`` seconds of quiet for follow-ups.
        Raises ``InteractionTimeout`` if the bot never answers (or deferred and never completed), and
        ``InteractionFailed`` if every answer it gave was rejected by the API; both carry ``.result``.
        """
        merged = {**(options or {}), **values}
        definition, data = await self._prepare_command(
            member,
            channel,
            command,
            merged,
            focused=None,
            timeout=timeout,
            ignore_default_permissions=ignore_default_permissions,
        )
        record = self._dispatch_interaction(APPLICATION_COMMAND, member, channel, data, command=definition)
        return await self._await_result(record, timeout, settle)

    async def autocomplete(
        self,
        member: Member,
        channel: Channel,
        command: str,
        /,
        focused: str,
        *,
        options: Mapping[str, Any] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        **values: Any,
    ) -> list[JSON]:
        """``member`` types into option ``focused`` (its text is ``values[focused]``); return the choices
        (``[{"name", "value"}]``). Raises ``InteractionFailed`` if every answer was rejected (e.g. more
        than 25 choices), ``InteractionTimeout`` if none came."""
        merged = {**(options or {}), **values}
        definition, data = await self._prepare_command(
            member,
            channel,
            command,
            merged,
            focused=focused,
            timeout=timeout,
            ignore_default_permissions=False,
        )
        record = self._dispatch_interaction(AUTOCOMPLETE, member, channel, data, command=definition)
        result = await self._await_result(record, timeout, 0.0)
        return list(result.choices or ())

    def _stored_message(self, message: JSON | int) -> tuple[Channel, int]:
        message_id = message_id_of(message)
        stored = self.state.messages.get(message_id)
        if stored is None or stored.deleted:
            raise CommandUsageError(f"message {message_id} does not exist (any more)")
        return self.state.channel(stored.channel_id), message_id

    async def _component_interaction(
        self,
        member: Member,
        message: JSON | int,
        custom_id: str,
        extra: JSON,
        timeout: float,  # noqa: ASYNC109
        settle: float,
    ) -> InteractionResult:
        channel, message_id = self._stored_message(message)
        self._check_member(member, channel)
        stored = self.state.messages[message_id]
        component = find_component(stored.components, custom_id=custom_id, label=None)
        if component is None:
            available = [c.get("custom_id") for c in _interactive(stored.components)]
            raise CommandUsageError(
                f"message {message_id} has no component {custom_id!r}; it has {available}"
            )
        if component.get("disabled"):
            raise CommandUsageError(f"component {custom_id!r} is disabled")
        data: JSON = {
            "custom_id": custom_id,
            "component_type": component["type"],
            "id": component.get("id", 0),
            **extra,
        }
        record = self._dispatch_interaction(MESSAGE_COMPONENT, member, channel, data, message_id=message_id)
        return await self._await_result(record, timeout, settle)

    async def click(
        self,
        member: Member,
        message: JSON | int,
        custom_id: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.1,
    ) -> InteractionResult:
        """``member`` clicks the button ``custom_id`` on ``message`` (a payload from ``messages()``/a result,
        or an id). The result's ``message`` is the updated message for type 6/7 answers."""
        return await self._component_interaction(member, message, custom_id, {}, timeout, settle)

    async def select(
        self,
        member: Member,
        message: JSON | int,
        custom_id: str,
        values: Sequence[str],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.1,
    ) -> InteractionResult:
        """``member`` picks ``values`` in the select menu ``custom_id`` (checked against its options)."""
        _, message_id = self._stored_message(message)
        component = find_component(
            self.state.messages[message_id].components, custom_id=custom_id, label=None
        )
        if component is not None:
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(values) <= high:
                raise CommandUsageError(f"select {custom_id!r} takes {low}..{high} values")
            offered = [option["value"] for option in component.get("options") or []]
            if component["type"] == 3 and any(value not in offered for value in values):
                raise CommandUsageError(f"select {custom_id!r} offers {offered}")
        return await self._component_interaction(
            member, message, custom_id, {"values": list(values)}, timeout, settle
        )

    async def submit_modal(
        self,
        member: Member,
        shown: InteractionResult,
        values: Mapping[str, str],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.1,
    ) -> InteractionResult:
        """``member`` fills in the modal the bot showed in ``shown`` (``values`` by custom_id) and submits."""
        if shown.modal is None:
            raise CommandUsageError("that interaction was not answered with a modal")
        channel = self.state.channel(shown.channel_id)
        self._check_member(member, channel)
        data = {"custom_id": shown.modal["custom_id"], "components": modal_submission(shown.modal, values)}
        record = self._dispatch_interaction(
            MODAL_SUBMIT, member, channel, data, message_id=shown.source_message_id
        )
        return await self._await_result(record, timeout, settle)


def message_id_of(message: JSON | int) -> int:
    """Accept a message payload (from ``messages()`` or a result) or a bare id."""
    return int(message["id"]) if isinstance(message, dict) else int(message)


def _interactive(components: list[JSON]) -> list[JSON]:
    return [component for component in walk_components(components) if "custom_id" in component]
