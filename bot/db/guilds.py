"""GuildSettingsRepository: each server's own configuration, isolated from every other server's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db_or_none, to_db

# Columns a moderator may change, and the Python types they take.
_SETTABLE = {
    "announce_channel_id": (int, type(None)),
    "ping_role_id": (int, type(None)),
    "template": (str, type(None)),
    "threads_enabled": (bool,),
    "notify_button_enabled": (bool,),
    "forum_tag_id": (int, type(None)),
    "alerts_channel_id": (int, type(None)),
    "publish_enabled": (bool,),
}
# What paused a server: 'permissions' lifts itself once the bot has them again; the others wait for
# a moderator to change the settings or ask to resume ('moderator': one asked for the pause).
PauseKind = Literal["permissions", "channel", "automod", "tag", "moderator"]


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    announce_channel_id: int | None = None
    ping_role_id: int | None = None
    template: str | None = None
    threads_enabled: bool = False
    notify_button_enabled: bool = False
    paused_reason: str | None = None
    paused_at: datetime | None = None
    left_at: datetime | None = None
    forum_tag_id: int | None = None
    paused_kind: PauseKind | None = None
    alerts_channel_id: int | None = None
    publish_enabled: bool = True


def _guild_settings(row: aiosqlite.Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        announce_channel_id=row["announce_channel_id"],
        ping_role_id=row["ping_role_id"],
        template=row["template"],
        threads_enabled=bool(row["threads_enabled"]),
        notify_button_enabled=bool(row["notify_button_enabled"]),
        paused_reason=row["paused_reason"],
        paused_at=from_db_or_none(row["paused_at"]),
        left_at=from_db_or_none(row["left_at"]),
        forum_tag_id=row["forum_tag_id"],
        paused_kind=row["paused_kind"],
        alerts_channel_id=row["alerts_channel_id"],
        publish_enabled=bool(row["publish_enabled"]),
    )


class GuildSettingsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildSettings:
        """The server's settings; defaults for a server that never configured anything."""
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return GuildSettings(guild_id) if row is None else _guild_settings(row)

    async def update(self, guild_id: int, *, now: datetime, **changes: object) -> GuildSettings:
        """Change some settings. A change of announcement channel lifts a pause: the moderators
        have acted on it, and the next delivery attempt tells whether it is fixed."""
        for name, value in changes.items():
            if name not in _SETTABLE or not isinstance(value, _SETTABLE[name]):
                raise ValueError(f"cannot set {name} to {value!r}")
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        if "announce_channel_id" in changes or "forum_tag_id" in changes:
            assignments += ", paused_reason = NULL, paused_at = NULL, paused_kind = NULL"
        values = {name: int(value) if isinstance(value, bool) else value for name, value in changes.items()}
        async with self._db.transaction() as connection:
            await self._ensure(connection, guild_id, now)
            # Column names come from _SETTABLE only; values are bound parameters.
            sql = f"UPDATE guild_settings SET {assignments}, updated_at = :now WHERE guild_id = :guild_id"  # noqa: S608
            await connection.execute(sql, {**values, "now": to_db(now), "guild_id": guild_id})
        return await self.get(guild_id)

    async def announcing(self) -> list[GuildSettings]:
        """Every server with an announcement channel that the bot is still in."""
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE announce_channel_id IS NOT NULL AND left_at IS NULL "
            "ORDER BY guild_id"
        ) as cursor:
            return [_guild_settings(row) for row in await cursor.fetchall()]

    async def with_alerts_channel(self) -> list[GuildSettings]:
        """Servers the bot is in that chose a channel for moderator alerts."""
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE alerts_channel_id IS NOT NULL AND left_at IS NULL"
        ) as cursor:
            return [_guild_settings(row) for row in await cursor.fetchall()]

    async def paused(self) -> list[GuildSettings]:
        async with self._db.connection.execute(
            "SELECT * FROM guild_settings WHERE paused_reason IS NOT NULL AND left_at IS NULL"
        ) as cursor:
            return [_guild_settings(row) for row in await cursor.fetchall()]

    async def pause(self, guild_id: int, reason: str, *, kind: PauseKind, now: datetime) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE guild_settings SET paused_reason = ?, paused_kind = ?, "
                "paused_at = coalesce(paused_at, ?) WHERE guild_id = ?",
                (reason, kind, to_db(now), guild_id),
            )

    async def resume(self, guild_id: int) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE guild_settings SET paused_reason = NULL, paused_at = NULL, paused_kind = NULL "
                "WHERE guild_id = ?",
                (guild_id,),
            )

    async def channel_deleted(self, guild_id: int, channel_id: int, *, now: datetime) -> bool:
        """Forget a deleted announcement channel so polls stop trying it. True if it was ours."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                """
                UPDATE guild_settings
                SET announce_channel_id = NULL, updated_at = :now,
                    paused_reason = 'The announcement channel was deleted: choose a new one with '
                                    || '/config channel set.',
                    paused_kind = 'channel', paused_at = :now
                WHERE guild_id = :guild_id AND announce_channel_id = :channel_id
                """,
                {"now": to_db(now), "guild_id": guild_id, "channel_id": channel_id},
            )
            return cursor.rowcount > 0

    async def left(self, guild_id: int, *, now: datetime) -> None:
        """The bot was removed: keep the settings (it may be invited back) but stop announcing."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE guild_settings SET left_at = ? WHERE guild_id = ?", (to_db(now), guild_id)
            )

    async def rejoined(self, guild_id: int) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE guild_settings SET left_at = NULL WHERE guild_id = ?", (guild_id,)
            )

    @staticmethod
    async def _ensure(connection: aiosqlite.Connection, guild_id: int, now: datetime) -> None:
        await connection.execute(
            "INSERT OR IGNORE INTO guild_settings (guild_id, created_at, updated_at) VALUES (?, ?, ?)",
            (guild_id, to_db(now), to_db(now)),
        )
