"""Registered application commands, global and per guild, stored and validated as Discord does."""

from __future__ import annotations

import copy
from typing import Any

from discord_emulator.errors import DiscordApiError, FormErrors
from discord_emulator.state import DiscordState
from discord_emulator.validation import validate_command

JSON = dict[str, Any]


class CommandStore:
    """Registered application commands, global and per guild, as Discord stores them."""

    def __init__(self, state: DiscordState, *, user_install: bool = True) -> None:
        self._state = state
        # The app's installation contexts (GUILD_INSTALL, and USER_INSTALL when its settings allow it).
        self.install_types = [0, 1] if user_install else [0]
        self.global_commands: dict[tuple[int, str], JSON] = {}
        self.guild_commands: dict[int, dict[tuple[int, str], JSON]] = {}
        self.sync_count = 0
        self.synced_scopes: set[int | None] = set()

    def table(self, guild_id: int | None) -> dict[tuple[int, str], JSON]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(guild_id, {})

    def _normalise(self, command: JSON, guild_id: int | None, previous: JSON | None) -> JSON:
        permissions = command.get("default_member_permissions")
        stored: JSON = {
            "id": previous["id"] if previous else str(self._state.snowflakes.next()),
            "application_id": str(self._state.application_id),
            "version": str(self._state.snowflakes.next()),
            "default_member_permissions": None if permissions is None else str(permissions),
            "type": command.get("type", 1),
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "contexts": command.get("contexts"),
            # "Defaults to your app's configured contexts" (application-commands.mdx, the command object;
            # the bulk-overwrite table still says [0], the default before discord-api-docs issue #7396
            # was fixed). Both fields are "only for globally-scoped commands": a server's own commands
            # belong to its installation.
            "integration_types": command.get("integration_types") or list(self.install_types),
            "nsfw": bool(command.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["integration_types"] = [0]
            stored["contexts"] = [0]
        options = _strip_none(command.get("options") or [])
        if options:
            stored["options"] = options
        if guild_id is None:
            stored["dm_permission"] = command.get("dm_permission", True) is not False
        else:
            stored["guild_id"] = str(guild_id)
        return stored

    def validate(self, commands: list[JSON]) -> None:
        errors = FormErrors()
        seen: set[tuple[int, str]] = set()
        for index, command in enumerate(commands):
            validate_command(command, errors, (index,))
            self._validate_contexts(command, errors, index)
            key = (command.get("type", 1), command.get("name", ""))
            if key in seen:
                errors.add(
                    (index, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[1]}",
                )
            seen.add(key)
        errors.raise_if_any()

    def _validate_contexts(self, command: JSON, errors: FormErrors, index: int) -> None:
        """``integration_types`` must be installation contexts the app supports ("as long as any
        included contexts are already supported on the application-level", application-commands.mdx,
        "Installation Context"); ``contexts`` must be interaction context types. The error codes are
        the emulator's: Discord documents the rule, not the error."""
        for field_name, valid in (("integration_types", self.install_types), ("contexts", [0, 1, 2])):
            values = command.get(field_name)
            if values is None:
                continue
            if not isinstance(values, list) or any(value not in valid for value in values):
                errors.add(
                    (index, field_name),
                    "APPLICATION_COMMAND_CONTEXTS_INVALID",
                    f"{field_name} may only contain {valid} for this application",
                )

    def bulk_overwrite(self, guild_id: int | None, commands: list[JSON]) -> list[JSON]:
        self.validate(commands)
        table = self.table(guild_id)
        replaced: dict[tuple[int, str], JSON] = {}
        for command in commands:
            key = (command.get("type", 1), command["name"])
            replaced[key] = self._normalise(command, guild_id, table.get(key))
        table.clear()
        table.update(replaced)
        self.sync_count += 1
        self.synced_scopes.add(guild_id)
        return [copy.deepcopy(command) for command in table.values()]

    def upsert(self, guild_id: int | None, command: JSON) -> tuple[JSON, bool]:
        self.validate([command])
        table = self.table(guild_id)
        key = (command.get("type", 1), command["name"])
        created = key not in table
        table[key] = self._normalise(command, guild_id, table.get(key))
        self.sync_count += 1
        self.synced_scopes.add(guild_id)
        return copy.deepcopy(table[key]), created

    def find(self, guild_id: int | None, command_id: int) -> tuple[tuple[int, str], JSON]:
        for key, command in self.table(guild_id).items():
            if int(command["id"]) == command_id:
                return key, command
        raise DiscordApiError.unknown_command()


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_strip_none(item) for item in value]
    return value
