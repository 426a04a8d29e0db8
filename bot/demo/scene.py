"""`python -m bot demo`: the real bot against the Discord emulator and a local feed, no token, no
internet. Plays a short scene (set-up, two new episodes, searches, a discussion, an episode shared in
a DM, a suggestion and a vote) and prints what the people on the server would see."""

from __future__ import annotations

import re
import tempfile
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from bot.demo.feed_server import FeedServer
from bot.demo.harness import emulator_settings, running_bot
from discord_emulator import Channel, DiscordEmulator, InteractionResult, Permission
from discord_emulator.state import DiscordState

JSON = dict[str, Any]
Print = Callable[[str], None]
_MENTION = re.compile(r"<(@&|@!?|#)(\d+)>")
_TIMESTAMP = re.compile(r"<t:(\d+)(?::([tTdDfFR]))?>")


class Transcript:
    """Renders Discord payloads as plain text, the way the Discord client would show them."""

    def __init__(self, state: DiscordState, out: Print) -> None:
        self._state = state
        self._out = out

    def scene(self, text: str) -> None:
        self._out(f"\n── {text} " + "─" * max(0, 70 - len(text)))

    def user_runs(self, who: str, channel: Channel, command: str, options: dict[str, object]) -> None:
        shown = " ".join(f"{name}:{self._option(value)}" for name, value in options.items())
        self._out(f"{self.where(channel)}  {who} ▸ /{command} {shown}".rstrip())

    def where(self, channel: Channel) -> str:
        """ "#general", or "DM ada–linus" for a private chat."""
        if channel.is_private:
            return "DM " + "–".join(user.username for user in channel.recipients)
        return f"#{channel.name}"

    def reply(self, result: InteractionResult) -> None:
        for message in result.messages:
            self.message(message, private=bool(message["flags"] & 64))

    def message(self, message: JSON, *, private: bool = False, channel: Channel | None = None) -> None:
        where = f"{self.where(channel)}  " if channel is not None else "   "
        who = message["author"]["username"]
        note = " (only you can see this)" if private else ""
        self._out(f"{where}{who}{note}:")
        if message.get("content"):
            self._out(textwrap.indent(self._text(message["content"]), "    "))
        for embed in message.get("embeds", []):
            self._embed(embed)
        buttons = [c for row in message.get("components", []) for c in row.get("components", [])]
        labels = [f"[{c.get('label') or c.get('placeholder') or '…'}]" for c in buttons]
        if labels:
            self._out("    " + " ".join(labels))

    def _embed(self, embed: JSON) -> None:
        lines = []
        if embed.get("title"):
            lines.append(self._text(embed["title"]))
        if embed.get("description"):
            lines += self._text(embed["description"]).splitlines()
        fields = embed.get("fields", [])
        if any("\n" in field["value"] for field in fields):
            for field in fields:
                lines.append(f"{field['name']}:")
                lines += [f"  {line}" for line in self._text(field["value"]).splitlines()]
        elif fields:
            lines.append(" · ".join(f"{field['name']}: {self._text(field['value'])}" for field in fields))
        for line in lines:
            for wrapped in textwrap.wrap(line, 90) or [""]:
                self._out(f"    ┃ {wrapped}")

    def _option(self, value: object) -> str:
        if isinstance(value, Channel):
            return f"#{value.name}"
        name = getattr(value, "name", None)
        return f"@{name}" if name is not None and hasattr(value, "mentionable") else str(value)

    def _text(self, text: str) -> str:
        def mention(match: re.Match[str]) -> str:
            kind, snowflake = match.group(1), int(match.group(2))
            if kind == "#":
                channel = self._state.channels.get(snowflake)
                return f"#{channel.name}" if channel else "#deleted-channel"
            if kind == "@&":
                for guild in self._state.guilds.values():
                    if snowflake in guild.roles:
                        return f"@{guild.roles[snowflake].name}"
                return "@deleted-role"
            user = self._state.users.get(snowflake)
            return f"@{user.username}" if user else "@unknown-user"

        def timestamp(match: re.Match[str]) -> str:
            moment = datetime.fromtimestamp(int(match.group(1)), UTC)
            if match.group(2) != "R":
                return moment.strftime("%d %B %Y")
            minutes = round((moment - datetime.now(UTC)).total_seconds() / 60)
            if minutes == 0:
                return "just now"
            return f"in {minutes} min" if minutes > 0 else f"{-minutes} min ago"

        return _TIMESTAMP.sub(timestamp, _MENTION.sub(mention, text)).replace("\\", "")


async def run_demo(out: Print = print) -> None:
    async with DiscordEmulator() as discord, FeedServer(PREVIOUS_FEED_FILE.read_bytes()) as feed:
        guild = discord.add_guild("Data Science at Home")
        episodes_channel = discord.add_channel(guild, "new-episodes")
        suggestions_channel = discord.add_channel(guild, "suggestions")
        moderator = discord.add_member(guild, "francesco", permissions=Permission.MANAGE_GUILD)
        listener = discord.add_member(guild, "ada")
        other_listener = discord.add_member(guild, "grace")
        role = discord.add_role(guild, "New Episodes", mentionable=True)
        transcript = Transcript(discord.state, out)

        async def run(
            who: Any, command: str, where: Channel = guild.general, **options: object
        ) -> InteractionResult:
            transcript.user_runs(who.name, where, command, options)
            result = await discord.run_command(who, where, command, options=options)
            transcript.reply(result)
            return result

        with tempfile.TemporaryDirectory(prefix="dsh-demo-") as scratch:
            settings = emulator_settings(discord, feed.url, Path(scratch) / "demo.sqlite3")
            out(f"Discord emulator on {discord.origin}, feed on {feed.url}")
            async with running_bot(discord, settings) as bot:
                outcome = await bot.services.announcer.poll()
                count = outcome.result.episodes_in_feed if outcome.result else 0
                out(f"The bot is online and has read the feed: {count} episodes, none announced (old news).")

                transcript.scene("A moderator sets the bot up")
                await run(moderator, "config channel set", channel=episodes_channel)
                await run(moderator, "config role set", role=role)
                await run(moderator, "config threads", enabled=True)
                await run(moderator, "suggestions channel set", channel=suggestions_channel)

                transcript.scene("The podcast publishes two episodes; the bot polls the feed")
                feed.publish(FEED_FILE.read_bytes())
                await bot.services.announcer.poll()
                for message in discord.messages(episodes_channel):
                    transcript.message(message, channel=episodes_channel)
                for thread in discord.threads(episodes_channel):
                    out(f"    🧵 discussion thread: {thread.name}")

                transcript.scene("A listener looks for episodes")
                await run(listener, "episode search", query="raschka")
                await run(listener, "episode random")
                await run(listener, "discuss", n=7)
                await run(listener, "about")

                transcript.scene("A listener with the bot on their account shares an episode in a DM")
                discord.add_user_install(listener)
                chat = discord.dm(listener, discord.add_user("linus"))
                latest = await run(listener, "episode latest", where=chat)
                out(f"{transcript.where(chat)}  {listener.name} clicks [Share in this chat]")
                await discord.click(listener, latest.message or {}, "episodes:share")
                transcript.message(discord.messages(chat)[-1], channel=chat)

                transcript.scene("Listeners propose the next episode")
                await run(listener, "suggest", topic="Federated learning and privacy on phones")
                card = discord.messages(suggestions_channel)[-1]
                transcript.message(card, channel=suggestions_channel)
                upvote = next(
                    button["custom_id"]
                    for row in card["components"]
                    for button in row["components"]
                    if button.get("label", "").startswith("Upvote")
                )
                out(f"#suggestions  {other_listener.name} clicks [Upvote]")
                transcript.reply(await discord.click(other_listener, card, upvote))

                transcript.scene("The moderator checks on the bot")
                await run(moderator, "config status")
        out("\nThat was the real bot, unmodified, talking to a local Discord emulator.")
