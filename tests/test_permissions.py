"""Permissions are named the way Discord's client names them (developers/topics/permissions.mdx)."""

from __future__ import annotations

import pytest

from bot.permissions import describe


@pytest.mark.parametrize(
    ("names", "shown"),
    [
        (["manage_guild"], "Manage Server"),
        (["view_channel", "send_messages"], "View Channels, Send Messages"),
        (["send_messages_in_threads"], "Send Messages in Threads"),
        (["mention_everyone"], "Mention @everyone, @here, and All Roles"),
        (["read_message_history", "embed_links"], "Read Message History, Embed Links"),
        (["create_public_threads", "manage_roles"], "Create Public Threads, Manage Roles"),
    ],
)
def test_permissions_read_as_in_discord(names: list[str], shown: str) -> None:
    assert describe(names) == shown
