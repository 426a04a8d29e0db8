"""Thread lifecycle (topics/threads.mdx): activity, auto-archiving on the clock, archived and locked rules."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from discord_emulator.errors import DiscordApiError
from discord_emulator.gateway import GUILDS, Gateway
from discord_emulator.permissions import Permission
from discord_emulator.state import PINNED_THREAD, ChangeSignal, Channel, DiscordState

log = logging.getLogger(__name__)


def thread_is_locked() -> DiscordApiError:
    # 160005 "Thread is locked" (opcodes-and-status-codes.mdx); the HTTP status is undocumented, and
    # Discord answers 400 for its other thread state errors.
    return DiscordApiError(400, 160005, "Thread is locked")


def thread_is_archived() -> DiscordApiError:
    # 50083: "Tried to perform an operation on an archived thread, such as editing a message or adding
    # a user to the thread" (opcodes-and-status-codes.mdx); "Thread is archived" is the message
    # Discord sends with it.
    return DiscordApiError(400, 50083, "Thread is archived")


class ThreadLifecycle:
    """Archives threads when their auto-archive time passes without activity, and applies the rules
    for sending and editing in archived and locked threads."""

    def __init__(self, state: DiscordState, gateway: Gateway, changes: ChangeSignal) -> None:
        self._state = state
        self._gateway = gateway
        self._changes = changes

    def dispatch_update(self, thread: Channel) -> None:
        """THREAD_UPDATE, to a bot that can see the thread (discord.py drops archived threads from its
        cache when it gets one)."""
        guild = self._state.guilds.get(thread.guild_id or 0)
        if guild is None or self._state.bot.id not in guild.members:
            return
        if self._state.bot_permissions_in(thread) & Permission.VIEW_CHANNEL:
            self._gateway.dispatch("THREAD_UPDATE", thread.payload(self._state.bot.id), intent=GUILDS)

    def touch(self, thread: Channel) -> None:
        """Activity ("sending a message, unarchiving a thread, or changing the auto-archive time")
        restarts the auto-archive timer."""
        thread.last_activity = self._state.clock.now()

    def archive(self, thread: Channel, *, locked: bool | None = None) -> None:
        """Archive now (and lock or unlock); archiving unpins a pinned forum post."""
        self._archive(thread, self._state.clock.now(), locked=locked)

    def _archive(self, thread: Channel, at: datetime, *, locked: bool | None) -> None:
        thread.archived = True
        thread.archive_timestamp = at
        thread.flags &= ~PINNED_THREAD
        if locked is not None:
            thread.locked = locked
        self.dispatch_update(thread)
        self._changes.notify()

    def unarchive(self, thread: Channel) -> None:
        now = self._state.clock.now()
        thread.archived = False
        thread.archive_timestamp = now
        thread.last_activity = now
        self.dispatch_update(thread)
        self._changes.notify()

    def set_locked(self, thread: Channel, locked: bool) -> None:
        thread.locked = locked
        self.dispatch_update(thread)
        self._changes.notify()

    def archive_due(self) -> list[Channel]:
        """Archive every active thread whose ``auto_archive_duration`` minutes passed without activity.

        The docs give no exact formula ("Threads automatically archive after a period of inactivity");
        the emulator archives exactly then, and stamps the thread with that moment, not with the time
        it noticed. Pinned forum posts never auto-archive.
        """
        now = self._state.clock.now()
        archived: list[Channel] = []
        for thread in list(self._state.channels.values()):
            if not thread.is_thread or thread.archived or thread.flags & PINNED_THREAD:
                continue
            assert thread.last_activity is not None
            due = thread.last_activity + timedelta(minutes=thread.auto_archive_duration)
            if now >= due:
                self._archive(thread, due, locked=None)
                archived.append(thread)
                log.info("emulator: thread %r auto-archived", thread.name)
        return archived

    # ----------------------------------------------------------------- rules
    def before_send(self, thread: Channel, bits: int) -> None:
        """Sending into a thread: refused while locked (without MANAGE_THREADS); an archived thread is
        unarchived by the message, "unless the thread has been locked by a moderator"."""
        if thread.locked and not bits & Permission.MANAGE_THREADS:
            raise thread_is_locked()
        if thread.archived:
            if thread.locked:
                raise thread_is_archived()
            self.unarchive(thread)
        self.touch(thread)

    def before_edit(self, thread: Channel, bits: int | None) -> None:
        """Editing a message in a thread: never while archived; not while locked without MANAGE_THREADS
        (``bits`` is None for the application's own interaction messages, which the lock does not
        concern)."""
        if thread.archived:
            raise thread_is_archived()
        if bits is not None and thread.locked and not bits & Permission.MANAGE_THREADS:
            raise thread_is_locked()

    def before_delete(self, thread: Channel, bits: int) -> None:
        """Deleting a message in a thread: allowed while archived ("The only operation that should
        happen within an archived thread is messages being deleted"), but in a locked thread "only
        ... if that thread is also active", without MANAGE_THREADS (topics/threads.mdx). The error
        is the emulator's choice: 50083, Discord's code for an operation on an archived thread."""
        if thread.archived and thread.locked and not bits & Permission.MANAGE_THREADS:
            raise thread_is_archived()
