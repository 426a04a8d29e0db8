"""Discord's request-body limits and mention rules, answered with Discord's exact error shapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from discord_emulator.errors import DiscordApiError, ErrorPath, FormErrors
from discord_emulator.state import IS_COMPONENTS_V2

JSON = dict[str, Any]

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TOTAL_LIMIT = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_TEXT_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
ACTION_ROWS_LIMIT = 5
ROW_WIDTH = 5
V2_COMPONENTS_LIMIT = 40
LINK_URL_LIMIT = 512
NONCE_LIMIT = 25
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
CHOICE_VALUE_LIMIT = 100
SELECT_OPTIONS_LIMIT = 25
MODAL_TITLE_LIMIT = 45
TEXT_INPUT_LIMIT = 4000

BUTTON = 2
TEXT_INPUT = 4
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
LINK_STYLE = 5
PREMIUM_STYLE = 6

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
PARSE_TYPES = frozenset({"users", "roles", "everyone"})
# Allowed URL schemes. Embeds: "only supports http(s)" (and attachments for images and icons;
# resources/message.mdx, embed object). Link buttons: undocumented; Discord answers that the scheme
# "must be one of ('http', 'https', 'discord')".
WEB_SCHEMES = ("http", "https")
MEDIA_SCHEMES = ("http", "https", "attachment")
BUTTON_SCHEMES = ("http", "https", "discord")


def _check_length(errors: FormErrors, path: ErrorPath, value: object, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.max_length(path, limit)


def check_url(errors: FormErrors, path: ErrorPath, value: object, schemes: tuple[str, ...]) -> None:
    """Discord's URL field checks: a well-formed URL whose scheme is one of ``schemes``."""
    if value is None:
        return
    if not isinstance(value, str):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    try:
        parts = urlsplit(value)
    except ValueError:
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return
    scheme = parts.scheme.lower()
    if not scheme or any(char.isspace() for char in value):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
    elif scheme not in schemes:
        allowed = ", ".join(f"'{name}'" for name in schemes)
        errors.add(
            path,
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{scheme}" is not supported. Scheme must be one of ({allowed}).',
        )
    elif scheme != "attachment" and not parts.netloc:
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _validate_embed_urls(errors: FormErrors, here: ErrorPath, embed: JSON) -> None:
    check_url(errors, (*here, "url"), embed.get("url"), WEB_SCHEMES)
    author = embed.get("author") or {}
    check_url(errors, (*here, "author", "url"), author.get("url"), WEB_SCHEMES)
    check_url(errors, (*here, "author", "icon_url"), author.get("icon_url"), MEDIA_SCHEMES)
    footer = embed.get("footer") or {}
    check_url(errors, (*here, "footer", "icon_url"), footer.get("icon_url"), MEDIA_SCHEMES)
    for media in ("image", "thumbnail"):
        check_url(errors, (*here, media, "url"), (embed.get(media) or {}).get("url"), MEDIA_SCHEMES)


def _embed_text_size(embed: JSON) -> int:
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    for embed_field in embed.get("fields") or []:
        size += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size


def validate_embeds(embeds: list[JSON], errors: FormErrors, prefix: ErrorPath) -> None:
    path = (*prefix, "embeds")
    if len(embeds) > EMBEDS_LIMIT:
        errors.max_length(path, EMBEDS_LIMIT)
        return
    for index, embed in enumerate(embeds):
        here = (*path, index)
        for key, limit in EMBED_LIMITS.items():
            _check_length(errors, (*here, key), embed.get(key), limit)
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_LIMIT:
            errors.max_length((*here, "fields"), FIELDS_LIMIT)
        for field_index, embed_field in enumerate(fields[:FIELDS_LIMIT]):
            for key, limit in (("name", FIELD_NAME_LIMIT), ("value", FIELD_VALUE_LIMIT)):
                value = embed_field.get(key)
                if value is None or value == "":
                    errors.required((*here, "fields", field_index, key))
                else:
                    _check_length(errors, (*here, "fields", field_index, key), value, limit)
        _check_length(
            errors, (*here, "footer", "text"), (embed.get("footer") or {}).get("text"), FOOTER_TEXT_LIMIT
        )
        _check_length(
            errors, (*here, "author", "name"), (embed.get("author") or {}).get("name"), AUTHOR_NAME_LIMIT
        )
        _validate_embed_urls(errors, here, embed)
    if not errors and sum(_embed_text_size(embed) for embed in embeds) > EMBED_TOTAL_LIMIT:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}")


def _check_custom_id(errors: FormErrors, path: ErrorPath, custom_id: object, seen: set[str]) -> None:
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID_LIMIT:
        errors.bad_length(path, 1, CUSTOM_ID_LIMIT)
    elif custom_id in seen:
        errors.add(path, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
    else:
        seen.add(custom_id)


def _validate_interactive(errors: FormErrors, path: ErrorPath, component: JSON, seen: set[str]) -> int:
    """Validate a button or select and return its width in an action row."""
    kind = component.get("type")
    if kind == BUTTON:
        _check_length(errors, (*path, "label"), component.get("label"), BUTTON_LABEL_LIMIT)
        style = component.get("style")
        if style == LINK_STYLE:
            # "Link buttons must have a url, and cannot have a custom_id" (components/reference.mdx).
            url = component.get("url")
            if component.get("custom_id") is not None:
                errors.add(
                    path,
                    "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
                    "A custom id and url cannot both be specified",
                )
            if not url:
                errors.required((*path, "url"))
            elif isinstance(url, str) and len(url) > LINK_URL_LIMIT:
                errors.max_length((*path, "url"), LINK_URL_LIMIT)
            else:
                check_url(errors, (*path, "url"), url, BUTTON_SCHEMES)
        elif style != PREMIUM_STYLE:
            _check_custom_id(errors, (*path, "custom_id"), component.get("custom_id"), seen)
        return 1
    if kind in SELECT_TYPES:
        _check_custom_id(errors, (*path, "custom_id"), component.get("custom_id"), seen)
        options = component.get("options") or []
        if kind == 3 and not 1 <= len(options) <= SELECT_OPTIONS_LIMIT:
            errors.bad_length((*path, "options"), 1, SELECT_OPTIONS_LIMIT)
        for option_index, option in enumerate(options[:SELECT_OPTIONS_LIMIT]):
            _check_length(errors, (*path, "options", option_index, "label"), option.get("label"), 100)
            _check_length(errors, (*path, "options", option_index, "value"), option.get("value"), 100)
        _check_length(errors, (*path, "placeholder"), component.get("placeholder"), 150)
        return ROW_WIDTH
    errors.add(
        (*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).'
    )
    return 1


def validate_components(components: list[JSON], errors: FormErrors, prefix: ErrorPath, *, flags: int) -> None:
    path = (*prefix, "components")
    seen: set[str] = set()
    if flags & IS_COMPONENTS_V2:
        # Layout components (sections, containers...) nest freely; only interactive leaves are checked.
        # "Messages allow up to 40 total components" (components/reference.mdx); the error Discord
        # sends for more is undocumented.
        total = _count_components(components)
        if total > V2_COMPONENTS_LIMIT:
            errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {V2_COMPONENTS_LIMIT} or fewer in length.")
            return
        _validate_v2_tree(components, errors, path, seen)
        return
    if len(components) > ACTION_ROWS_LIMIT:
        errors.max_length(path, ACTION_ROWS_LIMIT)
        return
    for row_index, row in enumerate(components):
        row_path = (*path, row_index)
        if row.get("type") != 1:
            errors.add(
                (*row_path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= ROW_WIDTH:
            errors.bad_length((*row_path, "components"), 1, ROW_WIDTH)
            continue
        width = sum(
            _validate_interactive(errors, (*row_path, "components", index), child, seen)
            for index, child in enumerate(children)
        )
        if width > ROW_WIDTH:
            errors.add(
                (*row_path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )


def _count_components(components: list[JSON]) -> int:
    """Every component of a components V2 message, nested ones and accessories included."""
    total = 0
    for component in components:
        total += 1
        children = component.get("components")
        if isinstance(children, list):
            total += _count_components(children)
        if isinstance(component.get("accessory"), dict):
            total += 1
    return total


def _validate_v2_tree(components: list[JSON], errors: FormErrors, path: ErrorPath, seen: set[str]) -> None:
    for index, component in enumerate(components):
        here = (*path, index)
        if component.get("type") == BUTTON or component.get("type") in SELECT_TYPES:
            _validate_interactive(errors, here, component, seen)
        children = component.get("components")
        if isinstance(children, list):
            _validate_v2_tree(children, errors, (*here, "components"), seen)
        accessory = component.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == BUTTON:
            _validate_interactive(errors, (*here, "accessory"), accessory, seen)


def validate_allowed_mentions(allowed: object, errors: FormErrors, prefix: ErrorPath) -> None:
    if allowed is None:
        return
    path = (*prefix, "allowed_mentions")
    if not isinstance(allowed, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    parse = allowed.get("parse") or []
    for index, value in enumerate(parse):
        if value not in PARSE_TYPES:
            errors.add(
                (*path, "parse", index), "ENUM_TYPE_COERCE", f'Value "{value}" is not a valid enum value.'
            )
    for kind in ("users", "roles"):
        explicit = allowed.get(kind) or []
        if kind in parse and explicit:
            errors.add(
                path,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
        if len(explicit) > 100:
            errors.max_length((*path, kind), 100)


def validate_nonce(nonce: object, errors: FormErrors, prefix: ErrorPath) -> None:
    """``nonce``: "integer or string ... (up to 25 characters)" (resources/message.mdx, Create
    Message). The error codes are undocumented; these are the ones Discord sends."""
    path = (*prefix, "nonce")
    if nonce is None:
        return
    if isinstance(nonce, bool) or not isinstance(nonce, (int, str)):
        errors.add(path, "NONCE_TYPE_INVALID_TYPE", "This field must be a string or integer.")
    elif isinstance(nonce, str) and len(nonce) > NONCE_LIMIT:
        errors.add(path, "NONCE_TYPE_TOO_LONG", f"Must be {NONCE_LIMIT} or fewer characters long.")


def validate_message_body(
    body: JSON, prefix: ErrorPath = (), *, creating: bool, has_files: bool = False
) -> None:
    """Apply Discord's message limits; raise 50035 (or 50006 for an empty new message)."""
    errors = FormErrors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add((*prefix, "content"), "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    else:
        _check_length(errors, (*prefix, "content"), content, CONTENT_LIMIT)
    embeds = body.get("embeds") or []
    validate_embeds(embeds, errors, prefix)
    flags = int(body.get("flags") or 0)
    components = body.get("components") or []
    validate_components(components, errors, prefix, flags=flags)
    validate_allowed_mentions(body.get("allowed_mentions"), errors, prefix)
    validate_nonce(body.get("nonce"), errors, prefix)
    errors.raise_if_any()
    empty = not content and not embeds and not components and not has_files
    empty = empty and not body.get("sticker_ids") and not body.get("poll") and not body.get("attachments")
    if creating and empty:
        raise DiscordApiError.empty_message()


def validate_choices(data: JSON) -> list[JSON]:
    """Validate an APPLICATION_COMMAND_AUTOCOMPLETE_RESULT's ``data`` and return its choices."""
    errors = FormErrors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.required(("data", "choices"))
        errors.raise_if_any()
        return []
    if len(choices) > CHOICES_LIMIT:
        errors.max_length(("data", "choices"), CHOICES_LIMIT)
    for index, choice in enumerate(choices[:CHOICES_LIMIT]):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_NAME_LIMIT:
            errors.bad_length(("data", "choices", index, "name"), 1, CHOICE_NAME_LIMIT)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_VALUE_LIMIT:
            errors.max_length(("data", "choices", index, "value"), CHOICE_VALUE_LIMIT)
        elif value is None:
            errors.required(("data", "choices", index, "value"))
    errors.raise_if_any()
    return choices


def validate_modal(data: JSON) -> None:
    """Validate a MODAL response's ``data`` (title, custom_id, up to five text inputs)."""
    errors = FormErrors()
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MODAL_TITLE_LIMIT:
        errors.bad_length(("data", "title"), 1, MODAL_TITLE_LIMIT)
    _check_custom_id(errors, ("data", "custom_id"), data.get("custom_id"), set())
    rows = data.get("components") or []
    if not 1 <= len(rows) <= ACTION_ROWS_LIMIT:
        errors.bad_length(("data", "components"), 1, ACTION_ROWS_LIMIT)
    seen: set[str] = set()
    for index, row in enumerate(rows):
        for path, child in _modal_inputs(row, ("data", "components", index)):
            _check_custom_id(errors, (*path, "custom_id"), child.get("custom_id"), seen)
            if child.get("type") == TEXT_INPUT:
                _check_length(errors, (*path, "label"), child.get("label"), MODAL_TITLE_LIMIT)
                _check_length(errors, (*path, "value"), child.get("value"), TEXT_INPUT_LIMIT)
                _check_length(errors, (*path, "placeholder"), child.get("placeholder"), 100)
    errors.raise_if_any()


def _modal_inputs(row: JSON, path: ErrorPath) -> list[tuple[ErrorPath, JSON]]:
    """The input components of one modal row: inside an action row (type 1) or a label (type 18)."""
    if row.get("type") == 1:
        return [((*path, "components", i), child) for i, child in enumerate(row.get("components") or [])]
    if row.get("type") == 18 and isinstance(row.get("component"), dict):
        return [((*path, "component"), row["component"])]
    return []


def modal_inputs(modal: JSON) -> list[JSON]:
    """Every input component of a modal, in order."""
    found: list[JSON] = []
    for index, row in enumerate(modal.get("components") or []):
        found.extend(child for _, child in _modal_inputs(row, ("components", index)))
    return found


@dataclass(frozen=True, slots=True)
class Mentions:
    """Who a message actually pings."""

    user_ids: list[int]
    role_ids: list[int]
    everyone: bool


def compute_mentions(
    content: str,
    allowed: JSON | None,
    *,
    default_parse: frozenset[str] = PARSE_TYPES,
    user_exists: Callable[[int], bool],
    role_pingable: Callable[[int], bool],
    can_mention_everyone: bool,
    replied_user_id: int | None = None,
) -> Mentions:
    """Parse <@id>, <@!id>, <@&id>, @everyone and @here, then filter them through ``allowed_mentions``.

    Without ``allowed_mentions`` Discord parses ``default_parse`` (everything in regular messages, only
    users in interaction and webhook messages); with it, only the listed ``parse`` types and explicit
    ids ping. Roles ping only when mentionable or the author may mention everyone;
    @everyone/@here only with MENTION_EVERYONE. A reply pings its author unless ``replied_user`` is false.
    """
    if allowed is None:
        parse = set(default_parse)
        explicit_users: set[int] = set()
        explicit_roles: set[int] = set()
        replied_user = True
    else:
        parse = set(allowed.get("parse") or [])
        explicit_users = {int(user_id) for user_id in allowed.get("users") or []}
        explicit_roles = {int(role_id) for role_id in allowed.get("roles") or []}
        replied_user = bool(allowed.get("replied_user", False))
    user_ids: list[int] = []
    for match in USER_MENTION.finditer(content):
        user_id = int(match.group(1))
        allowed_user = "users" in parse or user_id in explicit_users
        if allowed_user and user_exists(user_id) and user_id not in user_ids:
            user_ids.append(user_id)
    if replied_user and replied_user_id is not None and replied_user_id not in user_ids:
        user_ids.append(replied_user_id)
    role_ids: list[int] = []
    for match in ROLE_MENTION.finditer(content):
        role_id = int(match.group(1))
        allowed_role = "roles" in parse or role_id in explicit_roles
        if allowed_role and role_pingable(role_id) and role_id not in role_ids:
            role_ids.append(role_id)
    everyone = "everyone" in parse and can_mention_everyone and ("@everyone" in content or "@here" in content)
    return Mentions(user_ids, role_ids, everyone)


def normalise_embeds(embeds: list[JSON]) -> list[JSON]:
    """Embeds as Discord stores them: every embed sent by a bot is ``rich``; fields default to not inline."""
    normalised = []
    for embed in embeds:
        stored = {key: value for key, value in embed.items() if value is not None}
        stored.setdefault("type", "rich")
        if "fields" in stored:
            stored["fields"] = [{"inline": False, **embed_field} for embed_field in stored["fields"]]
        normalised.append(stored)
    return normalised


def normalise_components(components: list[JSON]) -> list[JSON]:
    """Components as Discord returns them: each gets a sequential numeric ``id`` unless it has one."""
    counter = 0

    def walk(items: list[JSON]) -> list[JSON]:
        nonlocal counter
        result = []
        for item in items:
            stored = dict(item)
            counter += 1
            stored.setdefault("id", counter)
            if isinstance(stored.get("components"), list):
                stored["components"] = walk(stored["components"])
            if isinstance(stored.get("accessory"), dict):
                stored["accessory"] = walk([stored["accessory"]])[0]
            result.append(stored)
        return result

    return walk(components)


def validate_command(command: JSON, errors: FormErrors, path: ErrorPath) -> None:
    """The application command limits Discord checks on registration."""
    name = command.get("name")
    kind = command.get("type", 1)
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        errors.bad_length((*path, "name"), 1, 32)
    elif kind == 1 and (name != name.lower() or not re.fullmatch(r"[-_\w]{1,32}", name)):
        errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name}")
    description = command.get("description", "")
    if kind == 1 and (not isinstance(description, str) or not 1 <= len(description) <= 100):
        errors.bad_length((*path, "description"), 1, 100)
    options = command.get("options") or []
    if len(options) > 25:
        errors.max_length((*path, "options"), 25)
    seen_optional = False
    for index, option in enumerate(options):
        option_path = (*path, "options", index)
        if option.get("type") in (1, 2):
            validate_command({**option, "type": 1}, errors, option_path)
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    option_path,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        validate_command({**option, "type": 1, "options": []}, errors, option_path)
        choices = option.get("choices") or []
        if len(choices) > CHOICES_LIMIT:
            errors.max_length((*option_path, "choices"), CHOICES_LIMIT)
