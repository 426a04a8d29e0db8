"""What an episode looks like on Discord: the card embed, the Listen button, the message template, and
the posts the announcer and the discussions send."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import discord

from bot.db.guilds import GuildSettings
from bot.documents.moments import moment_link
from bot.models import Episode, Soundbite
from bot.podcast import PODCAST_NAME
from bot.posts import Post
from bot.text import has_visible
from bot.ui.notify import NotifyRoleButton

EMBED_COLOUR = discord.Colour(0x2B6CB0)

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000  # characters of an embed's text in all (resources/message.mdx, "Embed Limits")
CONTENT_LIMIT = 2000
THREAD_NAME_LIMIT = 100
BUTTON_URL_LIMIT = 512

EXCERPT_LENGTH = 350
TEMPLATE_MAX_LENGTH = 500
DEFAULT_TEMPLATE = "{role} New episode of Data Science at Home: **{title}**"
TEMPLATE_PLACEHOLDERS: dict[str, str] = {
    "title": "the episode's title",
    "number": "the episode number (empty if it has none)",
    "url": "the episode's web page (or audio file)",
    "duration": "the running time, such as 42 min",
    "date": "the publication date, shown in each reader's time zone",
    "role": "a mention of the ping role (empty if none is set)",
}


class TemplateError(ValueError):
    """A message template that cannot be used; the message says how to fix it."""


def truncate_words(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` characters, on a word boundary where one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    boundary = cut.rfind(" ")
    if boundary >= limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(" ,;:.-–—") + ellipsis


def format_duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def timestamp(seconds: float) -> str:
    """ "HH:MM:SS": a position in an episode, as players and show notes write it."""
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}"


def excerpt(description: str, limit: int = EXCERPT_LENGTH) -> str:
    """The opening of the show notes, paragraphs kept, cut on a word boundary."""
    return truncate_words(description.strip(), limit)


def episode_url(episode: Episode) -> str | None:
    """The page a listener should open: the episode's web page, else its audio file."""
    for url in (episode.link, episode.audio_url):
        if url and url.startswith(("https://", "http://")) and len(url) <= BUTTON_URL_LIMIT:
            return url
    return None


def episode_embed(
    episode: Episode, *, podcast_image: str | None = None, ref: str | None = None
) -> discord.Embed:
    """The episode card, used for announcements and discovery alike; always within Discord's limits.
    An announcement's `ref` goes in the footer: the bot recognises its own announcements by it."""
    embed = discord.Embed(
        title=truncate_words(episode.title, EMBED_TITLE_LIMIT),
        url=episode_url(episode),
        description=excerpt(episode.description) or None,
        colour=EMBED_COLOUR,
        timestamp=episode.published,
    )
    numbering = _numbering(episode)
    if numbering:
        embed.add_field(name="Episode", value=numbering)
    if episode.tags.guests:
        guests = ", ".join(discord.utils.escape_markdown(guest) for guest in episode.tags.guests)
        embed.add_field(name="Guests", value=truncate_words(guests, EMBED_FIELD_VALUE_LIMIT))
    if episode.duration_seconds:
        embed.add_field(name="Duration", value=format_duration(episode.duration_seconds))
    if episode.published is not None:
        embed.add_field(name="Published", value=discord.utils.format_dt(episode.published, "D"))
    if episode.rebroadcast:
        embed.add_field(name="Rebroadcast", value="This is a repeat of an earlier episode.")
    if episode.tags.soundbites:
        embed.add_field(name="Highlight", value=_highlight(episode, episode.tags.soundbites[0]))
    image = episode.image or podcast_image
    if image and image.startswith(("https://", "http://")):
        embed.set_thumbnail(url=image)
    embed.set_footer(text=footer_text(ref))
    return embed


def _numbering(episode: Episode) -> str:
    """ "#5", or with a podcast:season "Season 2 · Episode 5" (the season's name in brackets)."""
    season = episode.tags.season
    if season is None:
        return "" if episode.number is None else f"#{episode.number}"
    name = episode.tags.season_name
    text = f"Season {season}" + (f" ({discord.utils.escape_markdown(name)})" if name else "")
    return text if episode.number is None else f"{text} · Episode {episode.number}"


def _highlight(episode: Episode, soundbite: Soundbite) -> str:
    """The podcaster's pick (podcast:soundbite): where it starts, linked where the host allows."""
    start = timestamp(soundbite.start_seconds)
    link = moment_link(episode.audio_url, soundbite.start_seconds)
    where = f"[Listen from {start}]({link})" if link else f"Listen from {start}"
    title = discord.utils.escape_markdown(truncate_words(soundbite.title, 200))
    return f"{where}: {title}" if title else where


def footer_text(ref: str | None) -> str:
    return PODCAST_NAME if ref is None else f"{PODCAST_NAME} · ref {ref}"


def link_buttons(episode: Episode) -> list[discord.ui.Button[discord.ui.View]]:
    """Link buttons to the episode and to its transcript (podcast:transcript, the one written for
    people first); link buttons need no handler and never expire."""
    buttons: list[discord.ui.Button[discord.ui.View]] = []
    url = episode_url(episode)
    if url is not None:
        buttons.append(discord.ui.Button(style=discord.ButtonStyle.link, label="Listen", url=url, emoji="🎧"))
    transcript = episode.tags.readable_transcript
    if transcript is not None and len(transcript.url) <= BUTTON_URL_LIMIT:
        buttons.append(
            discord.ui.Button(
                style=discord.ButtonStyle.link, label="Transcript", url=transcript.url, emoji="📝"
            )
        )
    return buttons


def digest_embed(episodes: Sequence[Episode], *, ref: str | None = None) -> discord.Embed:
    """One catch-up message for episodes beyond the per-poll cap, oldest first."""
    lines = []
    for episode in episodes:
        title = discord.utils.escape_markdown(truncate_words(episode.title, 150))
        url = episode_url(episode)
        lines.append(f"• [{title}]({url})" if url else f"• {title}")
    description = ""
    for index, line in enumerate(lines):
        remaining = len(lines) - index
        more = f"\n…and {remaining} more."
        if len(description) + len(line) + 1 + len(more) > EMBED_DESCRIPTION_LIMIT:
            description += more
            break
        description += ("\n" if description else "") + line
    embed = discord.Embed(
        title=f"{len(episodes)} more episodes were published while the bot was away",
        description=description,
        colour=EMBED_COLOUR,
    )
    embed.set_footer(text=footer_text(ref))
    return embed


def thread_name(episode: Episode) -> str:
    return truncate_words(episode.title, THREAD_NAME_LIMIT)


def template_fields(template: str) -> list[str]:
    """The placeholders a template uses; raises TemplateError for anything else."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise TemplateError(
            f"The template is not valid ({error}). Use {{{{ and }}}} for literal braces."
        ) from None
    valid = ", ".join(f"{{{name}}}" for name in TEMPLATE_PLACEHOLDERS)
    fields = []
    for _, name, format_spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_PLACEHOLDERS or format_spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{format_spec}" if format_spec else "")
                + "}"
            )
            raise TemplateError(f"Unknown placeholder {shown}. Valid placeholders: {valid}.")
        fields.append(name)
    return fields


def validate_template(template: str) -> None:
    if not has_visible(template):
        raise TemplateError("The template is empty: it has only spaces or invisible characters.")
    if len(template) > TEMPLATE_MAX_LENGTH:
        raise TemplateError(
            f"The template is {len(template)} characters long; the limit is {TEMPLATE_MAX_LENGTH}."
        )
    template_fields(template)


def render_content(template: str | None, episode: Episode, role_id: int | None) -> str:
    """The message text above the card. Feed text is escaped, so a title can neither format
    the message nor, with `announcement_mentions`, ping anyone."""
    values = {
        "title": discord.utils.escape_markdown(truncate_words(episode.title, EMBED_TITLE_LIMIT)),
        "number": "" if episode.number is None else str(episode.number),
        "url": episode_url(episode) or "",
        "duration": format_duration(episode.duration_seconds),
        "date": discord.utils.format_dt(episode.published, "D") if episode.published else "",
        "role": f"<@&{role_id}>" if role_id else "",
    }
    text = (template or DEFAULT_TEMPLATE).format_map(values)
    # An empty placeholder ({role} with no role set) must not leave a gap.
    return truncate_words(re.sub(r" {2,}", " ", text).strip(), CONTENT_LIMIT)


def announcement_mentions(role_id: int | None) -> discord.AllowedMentions:
    """The ping role, when set, is the only mention an announcement may make."""
    roles: list[discord.abc.Snowflake] | bool = [discord.Object(role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def link_view(episode: Episode) -> discord.ui.View:
    """The Listen and Transcript links alone: they need no handler and never expire."""
    view = discord.ui.View(timeout=None)
    for button in link_buttons(episode):
        view.add_item(button)
    return view


class AnnouncementCards:
    """The posts the Announcer sends: an episode's announcement, and the catch-up digest."""

    def episode(
        self,
        settings: GuildSettings,
        episode: Episode,
        podcast_image: str | None,
        ref: str,
        *,
        published: bool = False,
    ) -> Post:
        """`published`: it goes to the servers following the channel too, which get no buttons and
        do not know the ping role: the Listen link goes in the card and the ping in a message of its
        own."""
        view = link_view(episode)
        if settings.notify_button_enabled and settings.ping_role_id:
            view.add_item(NotifyRoleButton(settings.ping_role_id))
        embed = episode_embed(episode, podcast_image=podcast_image, ref=ref)
        url = episode_url(episode)
        if published and url is not None:
            embed.add_field(name="Listen", value=f"[🎧 Listen to the episode]({url})", inline=False)
        return Post(
            content=render_content(settings.template, episode, None if published else settings.ping_role_id),
            embed=embed,
            view=view,
            mentions=announcement_mentions(None if published else settings.ping_role_id),
            thread_name=thread_name(episode),
            ping_role_id=settings.ping_role_id if published else None,
        )

    def digest(self, episodes: Sequence[Episode], ref: str) -> Post:
        embed = digest_embed(episodes, ref=ref)
        return Post(
            content=None,
            embed=embed,
            view=None,
            mentions=discord.AllowedMentions.none(),
            thread_name=truncate_words(embed.title or "Catch-up", THREAD_NAME_LIMIT),
        )


def discussion_post(member: discord.Member, episode: Episode, podcast_image: str | None) -> Post:
    """The card that opens a discussion thread a member asked for (/discuss)."""
    return Post(
        content=f"Discussion of this episode, opened by {member.mention}. Join in below!",
        embed=episode_embed(episode, podcast_image=podcast_image),
        view=link_view(episode),
        mentions=discord.AllowedMentions.none(),
        thread_name=thread_name(episode),
    )
