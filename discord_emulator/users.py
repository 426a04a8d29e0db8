"""Tests acting as Discord users: run a slash command, autocomplete, click, select, submit a modal."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from discord_emulator.contexts import (
    GUILD_INSTALL,
    Surface,
    command_owners,
    forced_ephemeral,
    location_payload,
    owners_for,
    surface_of,
)
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
from discord_emulator.state import ChangeSignal, Channel, DiscordState, Member, Message, User

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
    def _dispatch_interaction(
        self,
        kind: int,
        surface: Surface,
        data: JSON,
        owners: dict[str, str],
        *,
        message_id: int | None = None,
        command: JSON | None = None,
    ) -> InteractionRecord:
        if self._gateway.session is None:
            raise RuntimeError("the bot has no gateway session; start it and await wait_until_ready()")
        record = InteractionRecord(
            id=self.state.snowflakes.next(),
            token=secrets.token_urlsafe(96),
            type=kind,
            guild_id=None if surface.guild is None else surface.guild.id,
            channel_id=surface.channel.id,
            user=surface.user,
            created_at=self._core.now(),
            context=surface.context,
            owners=owners,
            forced_ephemeral=forced_ephemeral(self.state, surface),
            command_name=None if command is None else command["name"],
            command_type=None if command is None else command.get("type", 1),
            source_message_id=message_id,
        )
        record.touch(self._core.now())
        payload: JSON = {
            "id": str(record.id),
            "application_id": str(self.state.application_id),
            "type": kind,
            "data": data,
            **location_payload(self.state, surface),
            "token": record.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": dict(owners),
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

    def _command_table(self, surface: Surface) -> dict[tuple[int, str], JSON]:
        """The commands a client offers there: global ones, and in a server the app is installed to,
        the server's own (which win on a name clash)."""
        commands = self._core.commands
        table = dict(commands.global_commands)
        if surface.guild is not None and self.state.installed_in(surface.guild):
            table.update(commands.guild_commands.get(surface.guild.id, {}))
        return table

    async def _prepare_command(
        self,
        who: Member | User,
        channel: Channel,
        command: str,
        values: Mapping[str, Any],
        *,
        focused: str | None,
        timeout: float,  # noqa: ASYNC109
        ignore_default_permissions: bool,
    ) -> tuple[Surface, JSON, JSON, dict[str, str]]:
        await self._wait_until_connected(timeout)
        surface = surface_of(self.state, who, channel)
        if channel.is_thread and channel.archived:
            # "Users cannot edit messages, add reactions, use application commands, or join archived
            # threads" (topics/threads.mdx, "Active & Archived Threads").
            raise CommandUsageError(f"#{channel.name} is archived: application commands cannot be used there")
        if not self._core.commands.synced_scopes:
            await self._changes.wait_until(lambda: bool(self._core.commands.synced_scopes), timeout)
        definition, trail, leaf = resolve_command_path(self._command_table(surface), command)
        owners = command_owners(self.state, surface, definition)
        required = definition.get("default_member_permissions")
        if surface.member is not None and not ignore_default_permissions:
            name = surface.member.name
            bits = surface.permissions
            if not bits & Permission.USE_APPLICATION_COMMANDS:
                raise CommandUsageError(f"{name} may not use application commands in #{channel.name}")
            # A server's command permissions belong to its installation of the app.
            if "0" in owners and required is not None and int(required) & bits != int(required):
                raise CommandUsageError(
                    f"/{definition['name']} is hidden from {name}: it needs permissions {required} "
                    "(pass ignore_default_permissions=True to act as if an admin overrode it)"
                )
        builder = OptionBuilder(self.state, surface.member, channel)
        options = nest_options(definition, trail, builder.leaf_options(leaf, values, focused=focused))
        data: JSON = {"id": definition["id"], "name": definition["name"], "type": definition.get("type", 1)}
        if options:
            data["options"] = options
        if builder.resolved:
            data["resolved"] = builder.resolved
        if definition.get("guild_id") is not None:
            data["guild_id"] = definition["guild_id"]
        return surface, definition, data, owners

    async def run_command(
        self,
        member: Member | User,
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
        """``member`` runs ``/command`` (``"episode search"`` for subcommands) in ``channel``: a server's
        channel (``member`` must be a member there, a ``Member`` or their ``User``) or a DM or group DM
        they are in (``dm``, ``bot_dm``, ``add_group_dm``).

        The command must be available there as in Discord's client: its ``contexts`` must include the
        channel's context (a server, the bot's DM, another DM), and the app must be installed there in
        a way its ``integration_types`` allow: to the server (the bot is a member), or to ``member``
        (``add_user_install``) for a command with USER_INSTALL. The interaction then carries that
        ``context``, its ``authorizing_integration_owners`` and ``app_permissions``, a partial ``guild``
        and ``member`` in a server (even one the bot is not in), ``user`` in a DM.

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
        surface, definition, data, owners = await self._prepare_command(
            member,
            channel,
            command,
            merged,
            focused=None,
            timeout=timeout,
            ignore_default_permissions=ignore_default_permissions,
        )
        record = self._dispatch_interaction(APPLICATION_COMMAND, surface, data, owners, command=definition)
        return await self._await_result(record, timeout, settle)

    async def autocomplete(
        self,
        member: Member | User,
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
        surface, definition, data, owners = await self._prepare_command(
            member,
            channel,
            command,
            merged,
            focused=focused,
            timeout=timeout,
            ignore_default_permissions=False,
        )
        record = self._dispatch_interaction(AUTOCOMPLETE, surface, data, owners, command=definition)
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
        member: Member | User,
        message: JSON | int,
        custom_id: str,
        extra: JSON,
        timeout: float,  # noqa: ASYNC109
        settle: float,
    ) -> InteractionResult:
        channel, message_id = self._stored_message(message)
        surface = surface_of(self.state, member, channel)
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
        record = self._dispatch_interaction(
            MESSAGE_COMPONENT, surface, data, self._message_owners(surface, stored), message_id=message_id
        )
        return await self._await_result(record, timeout, settle)

    def _message_owners(self, surface: Surface, message: Message) -> dict[str, str]:
        """The installations behind a component's message: those of the interaction that sent it (a
        user-installed app's message stays authorized by its user, whoever clicks), else the server's
        (a message the bot posted itself)."""
        metadata = message.interaction_metadata or {}
        owners = metadata.get("authorizing_integration_owners")
        if owners:
            return dict(owners)
        return owners_for(self.state, surface, [GUILD_INSTALL])

    async def click(
        self,
        member: Member | User,
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
        member: Member | User,
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
        member: Member | User,
        shown: InteractionResult,
        values: Mapping[str, str],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        settle: float = 0.1,
    ) -> InteractionResult:
        """``member`` fills in the modal the bot showed in ``shown`` (``values`` by custom_id) and submits."""
        if shown.modal is None:
            raise CommandUsageError("that interaction was not answered with a modal")
        surface = surface_of(self.state, member, self.state.channel(shown.channel_id))
        data = {"custom_id": shown.modal["custom_id"], "components": modal_submission(shown.modal, values)}
        showing = self._core.interactions[shown.interaction_id]
        record = self._dispatch_interaction(
            MODAL_SUBMIT, surface, data, dict(showing.owners), message_id=shown.source_message_id
        )
        return await self._await_result(record, timeout, settle)


def message_id_of(message: JSON | int) -> int:
    """Accept a message payload (from ``messages()`` or a result) or a bare id."""
    return int(message["id"]) if isinstance(message, dict) else int(message)


def _interactive(components: list[JSON]) -> list[JSON]:
    return [component for component in walk_components(components) if "custom_id" in component]
