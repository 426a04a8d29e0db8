"""/config: moderators set up announcements for their server and see what the bot is doing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.announce.announcer import Announcer, LatestAnnouncement, missing_permissions
from bot.app import PodcastBot
from bot.clock import utc_now
from bot.community.insights import Insights
from bot.db import EpisodeRepository, FeedRepository
from bot.db.announcements import AnnouncementRepository
from bot.db.config_history import ConfigChange, ConfigHistoryRepository
from bot.db.documents import DocumentRepository, DocumentSummary
from bot.db.guilds import GuildSettings, GuildSettingsRepository
from bot.db.incidents import IncidentRepository
from bot.errors import UserFacingError
from bot.permissions import describe, missing_in
from bot.podcast import Podcast
from bot.text import readable
from bot.ui.cards import (
    DEFAULT_TEMPLATE,
    TEMPLATE_MAX_LENGTH,
    TEMPLATE_PLACEHOLDERS,
    TemplateError,
    episode_embed,
    render_content,
    validate_template,
)
from bot.ui.template_editor import TemplateEditor
from cogs.checks import guild_of, require_manage_guild

log = logging.getLogger(__name__)

FORCED_POLL_GAP = timedelta(seconds=60)
AnnounceChannel = discord.TextChannel | discord.ForumChannel
ALERT_PERMISSIONS = ("view_channel", "send_messages")
# A forum tag that fits announcements, when a forum requires one and the moderator named none.
FITTING_TAG_WORDS = ("episode", "new", "podcast", "announcement", "release")


def _bot_member(guild: discord.Guild) -> discord.Member:
    if guild.me is None:
        raise UserFacingError("I am still connecting to this server; try again in a few seconds.")
    return guild.me


def _when(moment: datetime | None) -> str:
    return discord.utils.format_dt(moment, "R") if moment else "never"


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(commands.GroupCog, group_name="config", group_description="Set up the bot for this server"):
    channel = app_commands.Group(name="channel", description="Where new episodes are announced")
    role = app_commands.Group(name="role", description="The role pinged for new episodes")
    template = app_commands.Group(name="template", description="The text above each announcement")
    alerts = app_commands.Group(name="alerts", description="Where the bot tells moderators about problems")

    def __init__(
        self,
        announcer: Announcer,
        guilds: GuildSettingsRepository,
        history: ConfigHistoryRepository,
        episodes: EpisodeRepository,
        feeds: FeedRepository,
        outbox: AnnouncementRepository,
        podcast: Podcast,
        incidents: IncidentRepository,
        insights: Insights,
        documents: DocumentRepository,
    ) -> None:
        self._announcer = announcer
        self._guilds = guilds
        self._history = history
        self._episodes = episodes
        self._feeds = feeds
        self._outbox = outbox
        self._podcast = podcast
        self._incidents = incidents
        self._insights = insights
        self._documents = documents
        self._last_forced_poll: datetime | None = None
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[PodcastBot]) -> bool:  # type: ignore[override]
        guild_of(interaction)
        require_manage_guild(interaction)
        return True

    async def _change(
        self, interaction: discord.Interaction[PodcastBot], setting: str, shown: str | None, **changes: object
    ) -> GuildSettings:
        guild = guild_of(interaction)
        before = await self._guilds.get(guild.id)
        after = await self._guilds.update(guild.id, now=utc_now(), **changes)
        await self._record(interaction, setting, _shown_setting(before, setting), shown)
        return after

    async def _record(
        self, interaction: discord.Interaction[PodcastBot], setting: str, old: str | None, new: str | None
    ) -> None:
        """Who changed what, for /config history."""
        guild = guild_of(interaction)
        await self._history.record(
            ConfigChange(
                guild_id=guild.id,
                user_id=interaction.user.id,
                user_name=str(interaction.user),
                setting=setting,
                old_value=old,
                new_value=new,
                changed_at=utc_now(),
            )
        )
        log.info("Server %s: %s set %s to %r", guild.id, interaction.user.id, setting, new)

    # ---- channel ------------------------------------------------------------------------------

    @channel.command(name="set", description="Announce new episodes in this channel")
    @app_commands.describe(
        channel="A text, announcement or forum channel",
        announce_latest="Also announce the newest episode now, to see how it looks",
        tag="In a forum: the tag each episode's post gets (a forum may require one)",
    )
    async def channel_set(
        self,
        interaction: discord.Interaction[PodcastBot],
        channel: AnnounceChannel,
        announce_latest: bool = False,
        tag: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        missing = missing_permissions(channel, _bot_member(guild), settings.threads_enabled)
        if missing:
            raise UserFacingError(
                f"I can't announce in {channel.mention}: I lack the {describe(missing)} "
                "permission there. Grant it to my role in the channel settings, then run this again. "
                "Nothing was changed."
            )
        forum_tag = _forum_tag(channel, tag)
        if (
            forum_tag is not None
            and forum_tag.moderated
            and not channel.permissions_for(guild.me).manage_threads
        ):
            raise UserFacingError(
                f"Only members with Manage Threads may apply the tag {forum_tag.name}: give me that "
                "permission in the forum, or choose another tag. Nothing was changed."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._change(
            interaction,
            "channel",
            channel.mention + (f" (tag {forum_tag.name})" if forum_tag else ""),
            announce_channel_id=channel.id,
            forum_tag_id=forum_tag.id if forum_tag else None,
        )
        message = f"New episodes will be announced in {channel.mention}"
        message += f", each post tagged {forum_tag.name}." if forum_tag else "."
        if isinstance(channel, discord.TextChannel) and channel.is_news() and settings.publish_enabled:
            message += (
                " It is an announcement channel: each announcement is published to the servers that "
                "follow it (turn that off with /config publish)."
            )
        if announce_latest:
            message += " " + _latest_message(await self._announcer.announce_latest(guild.id))
        await self._announcer.resume(guild.id)  # what waited for a channel goes out now
        await interaction.followup.send(message, ephemeral=True)

    @channel_set.autocomplete("tag")
    async def tag_autocomplete(
        self, interaction: discord.Interaction[PodcastBot], current: str
    ) -> list[app_commands.Choice[str]]:
        forum = interaction.namespace.channel
        guild = interaction.guild
        chosen = guild.get_channel(forum.id) if guild is not None and forum is not None else None
        if not isinstance(chosen, discord.ForumChannel):
            return []
        typed = current.casefold()
        return [
            app_commands.Choice(name=tag.name, value=tag.name)
            for tag in chosen.available_tags
            if typed in tag.name.casefold()
        ][:25]

    @channel.command(name="clear", description="Stop announcing new episodes in this server")
    async def channel_clear(self, interaction: discord.Interaction[PodcastBot]) -> None:
        await self._change(interaction, "channel", None, announce_channel_id=None)
        await interaction.response.send_message(
            "Announcements are off. Set a channel again with /config channel set.", ephemeral=True
        )

    # ---- role ---------------------------------------------------------------------------------

    @role.command(name="set", description="Ping this role with each announcement")
    async def role_set(self, interaction: discord.Interaction[PodcastBot], role: discord.Role) -> None:
        guild = guild_of(interaction)
        if role.is_default():
            raise UserFacingError("@everyone can't be the ping role: create a role such as @New Episodes.")
        if role.managed:
            raise UserFacingError(f"{role.mention} belongs to an integration or bot; choose a normal role.")
        me = _bot_member(guild)
        if not role.mentionable and not me.guild_permissions.mention_everyone:
            raise UserFacingError(
                f"I can't ping {role.mention}: make it mentionable (Server Settings → Roles → "
                f"{role.name} → Allow anyone to @mention) or give me the Mention @everyone, @here, and All "
                "Roles permission. Nothing was changed."
            )
        await self._change(interaction, "role", role.mention, ping_role_id=role.id)
        await interaction.response.send_message(
            f"Announcements will ping {role.mention}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @role.command(name="clear", description="Ping nobody with announcements")
    async def role_clear(self, interaction: discord.Interaction[PodcastBot]) -> None:
        await self._change(interaction, "role", None, ping_role_id=None, notify_button_enabled=False)
        await interaction.response.send_message("Announcements will ping nobody.", ephemeral=True)

    # ---- template -----------------------------------------------------------------------------

    @template.command(name="set", description="Change the text above each announcement")
    @app_commands.describe(
        text="Placeholders: "
        + ", ".join(f"{{{name}}}" for name in TEMPLATE_PLACEHOLDERS)
        + ". Leave out to write several lines."
    )
    async def template_set(
        self,
        interaction: discord.Interaction[PodcastBot],
        text: app_commands.Range[str, 1, TEMPLATE_MAX_LENGTH] | None = None,
    ) -> None:
        if text is None:
            settings = await self._guilds.get(guild_of(interaction).id)
            editor = TemplateEditor(settings.template or DEFAULT_TEMPLATE, self._save_template)
            await interaction.response.send_modal(editor)
            return
        await self._save_template(interaction, text)

    async def _save_template(self, interaction: discord.Interaction[Any], text: str) -> None:
        # Also the modal's submission, which no interaction_check guards: check the person again.
        guild_of(interaction)
        require_manage_guild(interaction)
        text = readable(text, lines=True)
        try:
            validate_template(text)
        except TemplateError as error:
            raise UserFacingError(f"{error} Nothing was changed.") from error
        settings = await self._change(interaction, "template", text, template=text)
        await self._send_preview(
            interaction, settings, "Template saved. The next announcement will look like this:"
        )

    @template.command(name="preview", description="See how the newest episode would be announced")
    async def template_preview(self, interaction: discord.Interaction[PodcastBot]) -> None:
        settings = await self._guilds.get(guild_of(interaction).id)
        await self._send_preview(interaction, settings, "Preview (only you can see this; nobody was pinged):")

    @template.command(name="reset", description="Go back to the default announcement text")
    async def template_reset(self, interaction: discord.Interaction[PodcastBot]) -> None:
        settings = await self._change(interaction, "template", None, template=None)
        await self._send_preview(interaction, settings, "Template reset to the default:")

    async def _send_preview(
        self, interaction: discord.Interaction[PodcastBot], settings: GuildSettings, heading: str
    ) -> None:
        latest = await self._episodes.latest()
        if not latest:
            await interaction.response.send_message(
                f"{heading}\n(No episode has been fetched yet, so there is nothing to render.)",
                ephemeral=True,
            )
            return
        content = render_content(settings.template, latest[0], settings.ping_role_id)
        await interaction.response.send_message(
            f"{heading}\n\n{content}"[:2000],
            embed=episode_embed(latest[0], podcast_image=await self._podcast.image()),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    # ---- switches and actions -----------------------------------------------------------------

    @app_commands.command(name="threads", description="Open a discussion thread on each announcement")
    async def threads(self, interaction: discord.Interaction[PodcastBot], enabled: bool) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        channel = guild.get_channel(settings.announce_channel_id or 0)
        if enabled and isinstance(channel, discord.TextChannel):
            missing = missing_permissions(channel, _bot_member(guild), threads=True)
            if missing:
                raise UserFacingError(
                    f"I lack the {describe(missing)} permission in {channel.mention}, "
                    "so I could not open threads there. Nothing was changed."
                )
        await self._change(interaction, "threads", "on" if enabled else "off", threads_enabled=enabled)
        await interaction.response.send_message(
            "Each announcement will get a discussion thread." if enabled else "No more discussion threads.",
            ephemeral=True,
        )

    @app_commands.command(
        name="insights", description="Record what listeners search for and discuss, for /insights"
    )
    @app_commands.describe(recording="off also deletes what was recorded in this server")
    async def insights(
        self, interaction: discord.Interaction[PodcastBot], recording: Literal["on", "off"]
    ) -> None:
        guild = guild_of(interaction)
        old = "on" if await self._insights.is_recording(guild.id) else "off"
        await self._insights.set_recording(guild.id, recording == "on")
        await self._record(interaction, "insights", old, recording)
        await interaction.response.send_message(
            "Searches and discussion activity are recorded here again, without who, for /insights."
            if recording == "on"
            else "Insights are off: nothing more is recorded here, and what was recorded is deleted.",
            ephemeral=True,
        )

    @app_commands.command(
        name="notify-button", description="Add a 'Notify me' button that gives the ping role"
    )
    async def notify_button(self, interaction: discord.Interaction[PodcastBot], enabled: bool) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        if enabled:
            role = guild.get_role(settings.ping_role_id or 0)
            if role is None:
                raise UserFacingError("Set a ping role first with /config role set.")
            me = _bot_member(guild)
            if not me.guild_permissions.manage_roles or role >= me.top_role:
                raise UserFacingError(
                    f"To hand out {role.mention} I need the Manage Roles permission and my role must be "
                    f"above {role.mention} in Server Settings → Roles. Nothing was changed."
                )
        await self._change(
            interaction, "notify button", "on" if enabled else "off", notify_button_enabled=enabled
        )
        await interaction.response.send_message(
            "Announcements will carry a 'Notify me' button." if enabled else "The 'Notify me' button is off.",
            ephemeral=True,
        )

    @app_commands.command(
        name="announce-latest", description="Announce the newest episode now (to test the set-up)"
    )
    async def announce_latest(self, interaction: discord.Interaction[PodcastBot]) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        if settings.announce_channel_id is None:
            raise UserFacingError("Choose a channel first with /config channel set.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        latest = await self._announcer.announce_latest(guild.id)
        await interaction.followup.send(_latest_message(latest), ephemeral=True)

    @app_commands.command(name="poll-now", description="Check the feed for new episodes right away")
    async def poll_now(self, interaction: discord.Interaction[PodcastBot]) -> None:
        now = utc_now()
        if self._last_forced_poll and now - self._last_forced_poll < FORCED_POLL_GAP:
            wait = FORCED_POLL_GAP - (now - self._last_forced_poll)
            raise UserFacingError(f"The feed was just checked; try again in {wait.seconds + 1} s.")
        self._last_forced_poll = now
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self._announcer.poll(force=True)
        if outcome.error:
            message = f"The feed could not be read: {outcome.error}"
        elif outcome.result is None or not outcome.result.changed:
            message = "The feed has not changed since the last check."
        else:
            count = len(outcome.result.new)
            message = f"Feed checked: {count} new episode{'s' if count != 1 else ''}."
        await interaction.followup.send(message, ephemeral=True)

    @app_commands.command(
        name="publish", description="Publish announcements to the servers following an announcement channel"
    )
    async def publish(self, interaction: discord.Interaction[PodcastBot], enabled: bool) -> None:
        await self._change(interaction, "publishing", "on" if enabled else "off", publish_enabled=enabled)
        await interaction.response.send_message(
            "In an announcement channel, each announcement will be published to the servers that follow it."
            if enabled
            else "Announcements will not be published to following servers any more.",
            ephemeral=True,
        )

    @app_commands.command(
        name="pause", description="Hold announcements here, settings kept, until /config resume"
    )
    async def pause(self, interaction: discord.Interaction[PodcastBot]) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        if settings.announce_channel_id is None:
            raise UserFacingError("Announcements are off here: there is nothing to pause.")
        if settings.paused_kind == "moderator":
            raise UserFacingError("Announcements are already paused: /config resume starts them again.")
        reason = (
            f"Paused by {discord.utils.escape_markdown(str(interaction.user))} "
            f"{discord.utils.format_dt(utc_now(), 'R')}: /config resume starts them again."
        )
        await self._guilds.pause(guild.id, reason, kind="moderator", now=utc_now())
        await self._record(interaction, "announcements", "on", "paused")
        await interaction.response.send_message(
            "Announcements are paused; every setting is kept. New episodes wait, and /config resume "
            "announces them (oldest first).",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Start announcements again, after a pause or a fix")
    async def resume(self, interaction: discord.Interaction[PodcastBot]) -> None:
        guild = guild_of(interaction)
        before = await self._guilds.get(guild.id)
        if before.announce_channel_id is None:
            raise UserFacingError("Announcements are off here: choose a channel with /config channel set.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._announcer.resume(guild.id)
        if before.paused_kind == "moderator":
            await self._record(interaction, "announcements", "paused", "on")
        after = await self._guilds.get(guild.id)
        summary = await self._outbox.summary(guild.id)
        if after.paused_reason:
            message = f"Announcements are still paused: {after.paused_reason}"
        elif before.paused_reason:
            message = f"Announcements resumed in <#{after.announce_channel_id}>; {summary.pending} waiting."
        else:
            message = f"Announcements were not paused; {summary.pending} waiting to go out."
        await interaction.followup.send(message, ephemeral=True)

    @alerts.command(name="channel", description="Post alerts here (leave out the channel to stop them)")
    @app_commands.describe(channel="A channel the moderators read; leave it out to turn alerts off")
    async def alerts_channel(
        self, interaction: discord.Interaction[PodcastBot], channel: discord.TextChannel | None = None
    ) -> None:
        guild = guild_of(interaction)
        if channel is None:
            await self._change(interaction, "alerts channel", None, alerts_channel_id=None)
            await interaction.response.send_message("No more alerts.", ephemeral=True)
            return
        missing = missing_in(channel, _bot_member(guild), ALERT_PERMISSIONS)
        if missing:
            raise UserFacingError(
                f"I can't post alerts in {channel.mention}: I lack the {describe(missing)} permission there. "
                "Nothing was changed."
            )
        await self._change(interaction, "alerts channel", channel.mention, alerts_channel_id=channel.id)
        await interaction.response.send_message(
            f"I will tell {channel.mention} when the feed fails for hours, when announcements pause (and "
            "why) or an announcement is given up, and again when it is over.",
            ephemeral=True,
        )

    @app_commands.command(
        name="status", description="Feed health, this server's settings and its announcements"
    )
    async def status(self, interaction: discord.Interaction[PodcastBot]) -> None:
        guild = guild_of(interaction)
        settings = await self._guilds.get(guild.id)
        feed = await self._podcast.feed()
        outbox = await self._outbox.summary(guild.id)
        embed = discord.Embed(title="Bot status", colour=discord.Colour.blurple())
        feed_lines = [f"Episodes: {await self._episodes.count()}", f"URL: {await self._podcast.feed_url()}"]
        move = await self._podcast.move()
        if move is not None:
            feed_lines.append(
                f"↪️ Moved from {move.url} {_when(move.moved_at)} ({move.moved_because}): "
                "set FEED_URL to the new address."
            )
        if feed is None:
            feed_lines.append("Not checked yet.")
        else:
            feed_lines += [
                f"Last successful check: {_when(feed.last_success_at)}",
                f"Next check: {_when(feed.next_attempt_at)}",
            ]
            if feed.consecutive_failures:
                feed_lines.append(
                    f"⚠️ Failing ({feed.consecutive_failures} in a row) since {_when(feed.last_error_at)}: "
                    f"{feed.last_error}"
                )
        feed_lines += _documents_lines(await self._documents.summary())
        embed.add_field(name="Feed", value="\n".join(feed_lines)[:1024], inline=False)
        embed.add_field(name="Settings", value=_settings_text(settings, guild)[:1024], inline=False)
        announce_lines = [f"Sent: {outbox.sent} · Pending: {outbox.pending} · Failed: {outbox.failed}"]
        if outbox.published or outbox.to_publish or outbox.publish_failures:
            announce_lines.append(
                f"Published to followers: {outbox.published} · Waiting to publish: {outbox.to_publish}"
            )
        announce_lines += [
            f"Not published: {failure.publish_error}" for failure in outbox.publish_failures[:2]
        ]
        if settings.paused_reason:
            announce_lines.append(f"⏸️ Paused: {settings.paused_reason}")
        announce_lines += [f"Failed: {failure.last_error}" for failure in outbox.recent_failures[:3]]
        embed.add_field(name="Announcements", value="\n".join(announce_lines)[:1024], inline=False)
        incidents = await self._incidents.open_in(guild.id)
        if incidents:
            lines = [f"{_when(incident.opened_at)}: {incident.detail}" for incident in incidents[-5:]]
            embed.add_field(name="Open incidents", value="\n".join(lines)[:1024], inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="history", description="Who changed which setting, and when")
    async def history(self, interaction: discord.Interaction[PodcastBot]) -> None:
        changes = await self._history.recent(guild_of(interaction).id)
        if not changes:
            await interaction.response.send_message("No setting has been changed yet.", ephemeral=True)
            return
        lines = [
            f"{discord.utils.format_dt(change.changed_at, 'R')} "
            f"**{discord.utils.escape_markdown(change.user_name)}** "
            f"set {change.setting}: {change.old_value or 'none'} → {change.new_value or 'none'}"
            for change in changes
        ]
        embed = discord.Embed(title="Settings history", description="\n".join(lines)[:4096])
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


def _forum_tag(channel: AnnounceChannel, wanted: str | None) -> discord.ForumTag | None:
    """The tag announcements carry in `channel`: the one named, else in a forum that requires a tag one
    that fits; UserFacingError when the forum requires one and none fits or the name is unknown."""
    if not isinstance(channel, discord.ForumChannel):
        if wanted is not None:
            raise UserFacingError(
                f"Tags only exist in forums, and {channel.mention} is not one. Nothing was changed."
            )
        return None
    names = ", ".join(tag.name for tag in channel.available_tags) or "none yet"
    if wanted is not None:
        for tag in channel.available_tags:
            if tag.name.casefold() == wanted.strip().casefold() or str(tag.id) == wanted.strip():
                return tag
        raise UserFacingError(
            f"{channel.mention} has no tag named {wanted!r} (its tags: {names}). Nothing was changed."
        )
    if not channel.flags.require_tag:
        return None
    for tag in channel.available_tags:
        if not tag.moderated and any(word in tag.name.casefold() for word in FITTING_TAG_WORDS):
            return tag
    raise UserFacingError(
        f"{channel.mention} requires a tag on each post: choose one with the tag option (its tags: {names}). "
        "Nothing was changed."
    )


def _documents_lines(summary: DocumentSummary) -> list[str]:
    """The transcripts and chapters the feed links to (Podcasting 2.0): nothing when it links none."""
    if not (summary.fetched or summary.waiting or summary.given_up):
        return []
    lines = [
        f"Transcripts and chapters: {summary.fetched} fetched · {summary.waiting} waiting · "
        f"{summary.given_up} given up"
    ]
    if summary.last_error:
        lines.append(f"⚠️ Not fetched: {summary.last_error}")
    return lines


def _latest_message(latest: LatestAnnouncement | None) -> str:
    if latest is None:
        return "There is no episode to announce yet: the feed has not been fetched."
    sent = latest.announcement
    if latest.already_sent:
        return f"The newest episode was already announced, in <#{sent.channel_id}>; I did not post it again."
    if sent.status == "sent":
        return f"I announced the newest episode in <#{sent.channel_id}>."
    return f"The newest episode is not announced yet ({sent.last_error or 'queued'}): see /config status."


def _shown_setting(settings: GuildSettings, setting: str) -> str | None:
    shown: dict[str, str | None] = {
        "channel": f"<#{settings.announce_channel_id}>" if settings.announce_channel_id else None,
        "role": f"<@&{settings.ping_role_id}>" if settings.ping_role_id else None,
        "template": settings.template,
        "threads": "on" if settings.threads_enabled else "off",
        "notify button": "on" if settings.notify_button_enabled else "off",
        "alerts channel": f"<#{settings.alerts_channel_id}>" if settings.alerts_channel_id else None,
        "publishing": "on" if settings.publish_enabled else "off",
    }
    return shown[setting]


def _settings_text(settings: GuildSettings, guild: discord.Guild) -> str:
    channel = (
        f"<#{settings.announce_channel_id}>" if settings.announce_channel_id else "not set (no announcements)"
    )
    role = f"<@&{settings.ping_role_id}>" if settings.ping_role_id else "none"
    template = "default" if settings.template is None else f"custom: `{settings.template[:200]}`"
    alerts = f"<#{settings.alerts_channel_id}>" if settings.alerts_channel_id else "off"
    lines = [f"Channel: {channel}"]
    announce_channel = guild.get_channel(settings.announce_channel_id or 0)
    if settings.forum_tag_id and isinstance(announce_channel, discord.ForumChannel):
        tag = announce_channel.get_tag(settings.forum_tag_id)
        lines.append(f"Forum tag: {tag.name if tag else 'deleted: choose another with /config channel set'}")
    publishing = "on" if settings.publish_enabled else "off"
    if (
        settings.publish_enabled
        and announce_channel is not None
        and not (isinstance(announce_channel, discord.TextChannel) and announce_channel.is_news())
    ):
        # Only an announcement channel can be followed; say so rather than promise what cannot happen.
        publishing += " (only an announcement channel can be followed; this one is not)"
    return "\n".join(
        [
            *lines,
            f"Ping role: {role}",
            f"Template: {template}",
            f"Threads: {'on' if settings.threads_enabled else 'off'}",
            f"Notify button: {'on' if settings.notify_button_enabled else 'off'}",
            f"Alerts: {alerts}",
            f"Publishing to followers: {publishing}",
        ]
    )


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(
        ConfigCog(
            services.announcer,
            services.guilds,
            services.config_history,
            services.episodes,
            services.feeds,
            services.outbox,
            services.podcast,
            services.incidents,
            services.insights,
            services.documents,
        )
    )
