"""What a Discord client sends when a user runs a command, clicks or submits a modal, and what they see."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discord_emulator.core import InteractionRecord
from discord_emulator.errors import ApiErrorRecord, CommandUsageError
from discord_emulator.state import LOADING, Channel, DiscordState, Member, Role, User
from discord_emulator.validation import modal_inputs

JSON = dict[str, Any]

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
TYPE_NAMES = {
    STRING: "string",
    INTEGER: "integer",
    BOOLEAN: "boolean",
    USER: "user",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "mentionable",
    NUMBER: "number",
    ATTACHMENT: "attachment",
}


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """What the user sees after an interaction, snapshotted when the bot finished answering.

    ``message`` is the original response (or, for a component answered with an update, the updated
    message), ``followups`` the follow-up messages, ``errors`` every API error the bot's answers got.
    """

    interaction_id: int
    interaction_type: int
    channel_id: int
    response_type: int | None
    message: JSON | None
    followups: tuple[JSON, ...]
    choices: tuple[JSON, ...] | None
    modal: JSON | None
    errors: tuple[ApiErrorRecord, ...]
    source_message_id: int | None

    @property
    def answered(self) -> bool:
        return self.response_type is not None

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def ephemeral(self) -> bool:
        """Whether the visible response is only shown to the user who interacted."""
        return self.message is not None and bool(self.message["flags"] & 64)

    @property
    def messages(self) -> list[JSON]:
        """The response and every follow-up, in order."""
        return ([] if self.message is None else [self.message]) + list(self.followups)

    def _visible(self) -> JSON:
        if self.message is None:
            raise AssertionError(
                f"interaction {self.interaction_id} has no visible response message "
                f"(callback type {self.response_type}, errors {[e.message for e in self.errors]})"
            )
        return self.message

    @property
    def content(self) -> str:
        content: str = self._visible()["content"]
        return content

    @property
    def embeds(self) -> list[JSON]:
        embeds: list[JSON] = self._visible()["embeds"]
        return embeds

    @property
    def embed(self) -> JSON:
        """The single embed of the response (fails unless there is exactly one)."""
        embeds = self.embeds
        if len(embeds) != 1:
            raise AssertionError(f"expected exactly one embed, found {len(embeds)}")
        return embeds[0]

    @property
    def components(self) -> list[JSON]:
        components: list[JSON] = self._visible()["components"]
        return components

    def component(self, *, custom_id: str | None = None, label: str | None = None) -> JSON:
        """Find a component of the visible message by custom_id or label."""
        for message in self.messages:
            found = find_component(message.get("components") or [], custom_id=custom_id, label=label)
            if found is not None:
                return found
        raise AssertionError(f"no component with custom_id={custom_id!r} label={label!r}")


def walk_components(components: Sequence[JSON]) -> list[JSON]:
    """Every component of a message, depth first (rows, sections, containers and their children)."""
    found: list[JSON] = []
    for component in components:
        found.append(component)
        children = component.get("components")
        if isinstance(children, list):
            found.extend(walk_components(children))
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            found.append(accessory)
    return found


def find_component(components: Sequence[JSON], *, custom_id: str | None, label: str | None) -> JSON | None:
    for component in walk_components(components):
        if custom_id is not None and component.get("custom_id") != custom_id:
            continue
        if label is not None and component.get("label") != label:
            continue
        if custom_id is None and label is None:
            continue
        return component
    return None


def snapshot(state: DiscordState, record: InteractionRecord) -> InteractionResult:
    original = None if record.original_message_id is None else state.messages.get(record.original_message_id)
    message = None if original is None or original.deleted else state.message_payload(original)
    followups = tuple(
        state.message_payload(state.messages[message_id])
        for message_id in record.followup_ids
        if not state.messages[message_id].deleted
    )
    return InteractionResult(
        interaction_id=record.id,
        interaction_type=record.type,
        channel_id=record.channel_id,
        response_type=record.response_type,
        message=message,
        followups=followups,
        choices=None if record.choices is None else tuple(copy.deepcopy(record.choices)),
        modal=copy.deepcopy(record.modal),
        errors=tuple(record.errors),
        source_message_id=record.source_message_id,
    )


def is_answered(state: DiscordState, record: InteractionRecord) -> bool:
    """Answered as a user sees it: a deferral counts only once its "thinking..." message is replaced."""
    if record.response_type is None:
        return False
    if record.response_type != 5:
        return True
    original = state.messages.get(record.original_message_id or 0)
    return original is None or original.deleted or not original.flags & LOADING or bool(record.followup_ids)


# --------------------------------------------------------------------------- commands
def resolve_command_path(
    commands: Mapping[tuple[int, str], JSON], path: str
) -> tuple[JSON, list[str], list[JSON]]:
    """Split "episode search" into the top-level command, the subcommand names and the leaf's options."""
    words = path.split()
    if not words:
        raise CommandUsageError("empty command path")
    command = commands.get((1, words[0]))
    if command is None:
        known = sorted(name for kind, name in commands if kind == 1)
        raise CommandUsageError(f"no synced slash command /{words[0]} (synced: {known})")
    options: list[JSON] = command.get("options") or []
    trail: list[str] = []
    for word in words[1:]:
        sub = next(
            (o for o in options if o["name"] == word and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None
        )
        if sub is None:
            raise CommandUsageError(f"/{' '.join([words[0], *trail])} has no subcommand {word!r}")
        trail.append(word)
        options = sub.get("options") or []
    if any(option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for option in options):
        names = [o["name"] for o in options]
        raise CommandUsageError(f"/{path} is a group; choose one of its subcommands {names}")
    return command, trail, options


class OptionBuilder:
    """Turns Python values into the option list and ``resolved`` data a Discord client would send."""

    def __init__(self, state: DiscordState, member: Member | None, channel: Channel) -> None:
        self._state = state
        self._member = member
        self._channel = channel
        self.resolved: JSON = {}

    def _resolve_user(self, target: Member | User) -> str:
        user = target.user if isinstance(target, Member) else target
        self.resolved.setdefault("users", {})[str(user.id)] = user.payload()
        if self._channel.is_private:
            return str(user.id)
        guild = self._state.guild_of(self._channel)
        member = guild.members.get(user.id)
        if member is not None:
            permissions = self._state.permissions_in(self._channel, member)
            self.resolved.setdefault("members", {})[str(user.id)] = member.payload(
                with_user=False, permissions=permissions
            )
        return str(user.id)

    def _resolve_role(self, role: Role) -> str:
        self.resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        return str(role.id)

    def _resolve_channel(self, channel: Channel, definition: JSON) -> str:
        allowed = definition.get("channel_types")
        if allowed and int(channel.type) not in allowed:
            raise CommandUsageError(f"option {definition['name']!r} only accepts channel types {allowed}")
        data: JSON = {
            "id": str(channel.id),
            "name": channel.name,
            "type": int(channel.type),
            "guild_id": str(channel.guild_id),
            "permissions": str(
                0 if self._member is None else self._state.permissions_in(channel, self._member)
            ),
        }
        if channel.is_thread:
            thread = channel.payload()
            data.update(parent_id=thread["parent_id"], thread_metadata=thread["thread_metadata"])
        elif channel.parent_id is not None:
            data["parent_id"] = str(channel.parent_id)
        self.resolved.setdefault("channels", {})[str(channel.id)] = data
        return str(channel.id)

    def convert(self, definition: JSON, value: Any) -> Any:
        """Check ``value`` against the option definition like the Discord client does, and encode it."""
        name = definition["name"]
        kind = definition["type"]
        expected = TYPE_NAMES.get(kind, str(kind))
        if kind == STRING:
            if not isinstance(value, str):
                raise CommandUsageError(f"option {name!r} is a {expected}, got {value!r}")
            low, high = definition.get("min_length", 0), definition.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise CommandUsageError(f"option {name!r} must be {low}..{high} characters long")
        elif kind in (INTEGER, NUMBER):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CommandUsageError(f"option {name!r} is a {expected}, got {value!r}")
            if kind == INTEGER and not isinstance(value, int):
                raise CommandUsageError(f"option {name!r} is an integer, got {value!r}")
            if "min_value" in definition and value < definition["min_value"]:
                raise CommandUsageError(f"option {name!r} must be at least {definition['min_value']}")
            if "max_value" in definition and value > definition["max_value"]:
                raise CommandUsageError(f"option {name!r} must be at most {definition['max_value']}")
        elif kind == BOOLEAN:
            if not isinstance(value, bool):
                raise CommandUsageError(f"option {name!r} is a boolean, got {value!r}")
        elif kind == USER or (kind == MENTIONABLE and isinstance(value, (Member, User))):
            if not isinstance(value, (Member, User)):
                raise CommandUsageError(f"option {name!r} takes a Member or User, got {value!r}")
            return self._resolve_user(value)
        elif kind in (ROLE, MENTIONABLE):
            if not isinstance(value, Role):
                raise CommandUsageError(f"option {name!r} takes a Role, got {value!r}")
            return self._resolve_role(value)
        elif kind == CHANNEL:
            if not isinstance(value, Channel):
                raise CommandUsageError(f"option {name!r} takes a Channel, got {value!r}")
            return self._resolve_channel(value, definition)
        else:
            raise CommandUsageError(f"option {name!r} has type {expected}, which the emulator cannot send")
        choices = definition.get("choices")
        if choices and value not in [choice["value"] for choice in choices]:
            raise CommandUsageError(f"option {name!r} must be one of {[c['value'] for c in choices]}")
        return value

    def leaf_options(
        self, definitions: list[JSON], values: Mapping[str, Any], *, focused: str | None = None
    ) -> list[JSON]:
        by_name = {definition["name"]: definition for definition in definitions}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            raise CommandUsageError(f"unknown option(s) {unknown}; the command takes {sorted(by_name)}")
        if focused is not None:
            if focused not in by_name:
                raise CommandUsageError(f"cannot focus unknown option {focused!r}")
            if not by_name[focused].get("autocomplete"):
                raise CommandUsageError(f"option {focused!r} has no autocomplete")
        options: list[JSON] = []
        for definition in definitions:
            name = definition["name"]
            if name == focused:
                # The client sends what the user has typed so far, always as text.
                options.append(
                    {
                        "name": name,
                        "type": definition["type"],
                        "value": str(values.get(name, "")),
                        "focused": True,
                    }
                )
                continue
            if name not in values:
                if definition.get("required") and focused is None:
                    raise CommandUsageError(f"missing required option {name!r}")
                continue
            options.append(
                {"name": name, "type": definition["type"], "value": self.convert(definition, values[name])}
            )
        return options


def nest_options(command: JSON, trail: list[str], leaf: list[JSON]) -> list[JSON]:
    """Wrap leaf options in their subcommand group and subcommand, as the interaction data nests them."""
    options = leaf
    definitions: list[JSON] = command.get("options") or []
    chain: list[JSON] = []
    for word in trail:
        definition = next(o for o in definitions if o["name"] == word)
        chain.append(definition)
        definitions = definition.get("options") or []
    for definition in reversed(chain):
        options = [{"name": definition["name"], "type": definition["type"], "options": options}]
    return options


def modal_submission(modal: JSON, values: Mapping[str, str]) -> list[JSON]:
    """The ``components`` of a MODAL_SUBMIT, in the modal's own layout, checked like the client does."""
    inputs = {component.get("custom_id"): component for component in modal_inputs(modal)}
    unknown = sorted(set(values) - set(inputs))
    if unknown:
        raise CommandUsageError(
            f"the modal has no input(s) {unknown}; it has {sorted(str(k) for k in inputs)}"
        )
    for custom_id, component in inputs.items():
        value = values.get(str(custom_id), component.get("value") or "")
        if component.get("required", True) and not value:
            raise CommandUsageError(f"modal input {custom_id!r} is required")
        low, high = component.get("min_length", 0), component.get("max_length", 4000)
        if value and not low <= len(value) <= high:
            raise CommandUsageError(f"modal input {custom_id!r} must be {low}..{high} characters long")

    def submitted(component: JSON) -> JSON:
        custom_id = component.get("custom_id")
        value = values.get(str(custom_id), component.get("value") or "")
        return {
            "type": component["type"],
            "id": component.get("id", 0),
            "custom_id": custom_id,
            "value": value,
        }

    rows: list[JSON] = []
    for row in modal.get("components") or []:
        if row.get("type") == 18:
            rows.append({"type": 18, "id": row.get("id", 0), "component": submitted(row["component"])})
        else:
            rows.append(
                {"type": 1, "id": row.get("id", 0), "components": [submitted(c) for c in row["components"]]}
            )
    return rows
