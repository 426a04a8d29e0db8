"""Discord's limits, mention rules and permission arithmetic as the emulator applies them."""

from __future__ import annotations

from typing import Any

import pytest

from discord_emulator.errors import DiscordApiError, FormErrors
from discord_emulator.permissions import (
    ALL_PERMISSIONS,
    Permission,
    apply_overwrites,
    base_permissions,
)
from discord_emulator.validation import (
    compute_mentions,
    validate_choices,
    validate_message_body,
    validate_modal,
)

JSON = dict[str, Any]


def form_errors(body: JSON, prefix: tuple[str, ...] = ()) -> JSON:
    with pytest.raises(DiscordApiError) as raised:
        validate_message_body(body, prefix, creating=True)
    assert (raised.value.status, raised.value.code, raised.value.message) == (400, 50035, "Invalid Form Body")
    assert raised.value.errors is not None
    return raised.value.errors


def error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def button(custom_id: str, label: str = "ok") -> JSON:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def test_content_limit_is_2000_characters() -> None:
    validate_message_body({"content": "x" * 2000}, creating=True)

    assert form_errors({"content": "x" * 2001}) == {
        "content": error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    }


def test_interaction_errors_are_nested_under_data() -> None:
    assert form_errors({"content": "x" * 2001}, ("data",)) == {
        "data": {"content": error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")}
    }


@pytest.mark.parametrize(
    ("embed", "path", "limit"),
    [
        ({"title": "t" * 257}, ("title",), 256),
        ({"description": "d" * 4097}, ("description",), 4096),
        ({"footer": {"text": "f" * 2049}}, ("footer", "text"), 2048),
        ({"author": {"name": "a" * 257}}, ("author", "name"), 256),
        ({"fields": [{"name": "n" * 257, "value": "v"}]}, ("fields", "0", "name"), 256),
        ({"fields": [{"name": "n", "value": "v" * 1025}]}, ("fields", "0", "value"), 1024),
    ],
)
def test_each_embed_text_limit(embed: JSON, path: tuple[str, ...], limit: int) -> None:
    expected: JSON = error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    for part in reversed(("embeds", "0", *path)):
        expected = {part: expected}

    assert form_errors({"embeds": [embed]}) == expected


def test_embed_counts_and_total_size() -> None:
    assert form_errors({"embeds": [{"title": "t"}] * 11}) == {
        "embeds": error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    }
    too_many_fields = {"fields": [{"name": "n", "value": "v"}] * 26}
    assert form_errors({"embeds": [too_many_fields]}) == {
        "embeds": {"0": {"fields": error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")}}
    }
    # Two embeds each within their own limits, together over 6,000 characters.
    big = {"description": "d" * 4000}
    assert form_errors({"embeds": [big, big]}) == {
        "embeds": error("MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    }
    assert form_errors({"embeds": [{"fields": [{"name": "", "value": "v"}]}]}) == {
        "embeds": {"0": {"fields": {"0": {"name": error("BASE_TYPE_REQUIRED", "This field is required")}}}}
    }


def test_component_limits() -> None:
    row = {"type": 1, "components": [button("a")]}
    six_rows = [{"type": 1, "components": [button(f"r{n}")]} for n in range(6)]
    assert form_errors({"components": six_rows}) == {
        "components": error("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    }
    six_buttons = {"type": 1, "components": [button(f"b{n}") for n in range(6)]}
    assert form_errors({"components": [six_buttons]}) == {
        "components": {
            "0": {"components": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")}
        }
    }
    long_label = {"type": 1, "components": [button("a", label="l" * 81)]}
    assert form_errors({"components": [long_label]}) == {
        "components": {
            "0": {
                "components": {
                    "0": {"label": error("BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")}
                }
            }
        }
    }
    long_id = {"type": 1, "components": [button("c" * 101)]}
    assert form_errors({"components": [long_id]}) == {
        "components": {
            "0": {
                "components": {
                    "0": {"custom_id": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
                }
            }
        }
    }
    duplicated = [row, {"type": 1, "components": [button("a")]}]
    assert form_errors({"components": duplicated}) == {
        "components": {
            "1": {
                "components": {
                    "0": {
                        "custom_id": error(
                            "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                        )
                    }
                }
            }
        }
    }
    select = {"type": 3, "custom_id": "s", "options": [{"label": "x", "value": "x"}]}
    crowded = {"type": 1, "components": [button("b"), select]}
    assert form_errors({"components": [crowded]}) == {
        "components": {
            "0": {
                "components": error(
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width"
                )
            }
        }
    }
    link = {
        "type": 1,
        "components": [{"type": 2, "style": 5, "label": "Listen", "url": "https://example.com"}],
    }
    validate_message_body({"components": [link]}, creating=True)


def test_empty_message_is_50006_but_an_empty_edit_is_fine() -> None:
    with pytest.raises(DiscordApiError) as raised:
        validate_message_body({"content": "", "embeds": [], "tts": False}, creating=True)

    assert (raised.value.code, raised.value.message) == (50006, "Cannot send an empty message")
    validate_message_body({"content": ""}, creating=False)
    validate_message_body({}, creating=True, has_files=True)


def test_allowed_mentions_parse_and_ids_are_exclusive() -> None:
    body = {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["123"]}}

    assert form_errors(body) == {
        "allowed_mentions": error(
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
            'parse:["users"] and users: [ids...] are mutually exclusive.',
        )
    }


def test_autocomplete_choice_limits() -> None:
    assert validate_choices({"choices": [{"name": "a", "value": "a"}]}) == [{"name": "a", "value": "a"}]
    with pytest.raises(DiscordApiError) as raised:
        validate_choices({"choices": [{"name": "n" * 101, "value": "v" * 101}]})

    assert raised.value.errors == {
        "data": {
            "choices": {
                "0": {
                    "name": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."),
                    "value": error("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."),
                }
            }
        }
    }


def test_modal_limits() -> None:
    text_input = {"type": 4, "custom_id": "f", "label": "Feedback", "style": 1}
    validate_modal(
        {"title": "Feedback", "custom_id": "m", "components": [{"type": 1, "components": [text_input]}]}
    )
    with pytest.raises(DiscordApiError) as raised:
        validate_modal({"title": "t" * 46, "custom_id": "m", "components": []})

    assert raised.value.errors == {
        "data": {
            "title": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."),
            "components": error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."),
        }
    }


ALICE, BOB, ROLE, HIDDEN_ROLE = 111111111111111111, 222222222222222222, 333333333333333333, 444444444444444444
CONTENT = f"<@{ALICE}> <@!{BOB}> <@&{ROLE}> <@&{HIDDEN_ROLE}> <@999999999999999999> @here"


def mentions(allowed: JSON | None, *, everyone: bool = True, replied: int | None = None) -> tuple[Any, ...]:
    found = compute_mentions(
        CONTENT,
        allowed,
        user_exists=lambda user_id: user_id in (ALICE, BOB),
        role_pingable=lambda role_id: role_id == ROLE,
        can_mention_everyone=everyone,
        replied_user_id=replied,
    )
    return found.user_ids, found.role_ids, found.everyone


def test_mentions_follow_allowed_mentions() -> None:
    assert mentions(None) == ([ALICE, BOB], [ROLE], True)
    assert mentions(None, everyone=False) == ([ALICE, BOB], [ROLE], False)
    assert mentions({"parse": []}) == ([], [], False)
    assert mentions({"parse": ["roles"], "users": [str(BOB)]}) == ([BOB], [ROLE], False)
    assert mentions({"parse": ["everyone"]}) == ([], [], True)
    assert mentions({"parse": [], "roles": [str(HIDDEN_ROLE)]}) == ([], [], False)


def test_replies_ping_their_author_unless_told_not_to() -> None:
    replied = 555555555555555555
    assert mentions(None, replied=replied)[0] == [ALICE, BOB, replied]
    assert mentions({"parse": []}, replied=replied)[0] == []
    assert mentions({"parse": [], "replied_user": True}, replied=replied)[0] == [replied]


def test_permissions_owner_and_administrator_get_everything() -> None:
    assert base_permissions(everyone=0, role_permissions=[], is_owner=True) == ALL_PERMISSIONS
    admin = base_permissions(everyone=0, role_permissions=[Permission.ADMINISTRATOR], is_owner=False)
    denied_everything = apply_overwrites(
        admin, everyone_overwrite=(0, ALL_PERMISSIONS), role_overwrites=[], member_overwrite=None
    )
    assert denied_everything == ALL_PERMISSIONS


def test_overwrites_apply_everyone_then_roles_then_member() -> None:
    view_send = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.EMBED_LINKS
    base = base_permissions(everyone=view_send, role_permissions=[], is_owner=False)

    no_send = apply_overwrites(
        base, everyone_overwrite=(0, Permission.SEND_MESSAGES), role_overwrites=[], member_overwrite=None
    )
    role_allows = apply_overwrites(
        base,
        everyone_overwrite=(0, Permission.SEND_MESSAGES),
        role_overwrites=[(Permission.SEND_MESSAGES, 0)],
        member_overwrite=None,
    )
    member_denies = apply_overwrites(
        base,
        everyone_overwrite=None,
        role_overwrites=[(Permission.SEND_MESSAGES, 0)],
        member_overwrite=(0, Permission.SEND_MESSAGES),
    )
    hidden = apply_overwrites(
        base, everyone_overwrite=(0, Permission.VIEW_CHANNEL), role_overwrites=[], member_overwrite=None
    )

    # Without SEND_MESSAGES, EMBED_LINKS goes too (Discord's implicit permissions).
    assert no_send == Permission.VIEW_CHANNEL
    assert role_allows == view_send
    assert member_denies == Permission.VIEW_CHANNEL
    assert hidden == 0


def test_form_errors_collect_several_fields() -> None:
    errors = FormErrors()
    errors.max_length(("content",), 2000)
    errors.required(("embeds", 0, "fields", 1, "name"))

    with pytest.raises(DiscordApiError) as raised:
        errors.raise_if_any()

    assert raised.value.body() == {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {
            "content": error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."),
            "embeds": {
                "0": {"fields": {"1": {"name": error("BASE_TYPE_REQUIRED", "This field is required")}}}
            },
        },
    }


# Components and embed URLs: developers/components/reference.mdx (buttons, the 40-component limit) and
# resources/message.mdx (embed object). The error codes and messages are what Discord sends.
def link_button(url: str, **extra: object) -> JSON:
    return {"type": 1, "components": [{"type": 2, "style": 5, "label": "Listen", "url": url, **extra}]}


def in_button(errors: JSON) -> JSON:
    return {"components": {"0": {"components": {"0": errors}}}}


def test_link_button_urls() -> None:
    for url in ("https://example.com/ep/1", "http://example.com", "discord://-/channels/1/2"):
        validate_message_body({"components": [link_button(url)]}, creating=True)

    assert form_errors({"components": [link_button("steam://connect/1.2.3.4")]}) == in_button(
        {
            "url": error(
                "URL_TYPE_INVALID_SCHEME",
                "Scheme \"steam\" is not supported. Scheme must be one of ('http', 'https', 'discord').",
            )
        }
    )
    assert form_errors({"components": [link_button("not a url")]}) == in_button(
        {"url": error("URL_TYPE_INVALID_URL", "Not a well formed URL.")}
    )
    assert form_errors({"components": [link_button("https://example.com/" + "x" * 493)]}) == in_button(
        {"url": error("BASE_TYPE_MAX_LENGTH", "Must be 512 or fewer in length.")}
    )
    assert form_errors({"components": [link_button("https://example.com", custom_id="listen")]}) == in_button(
        error(
            "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
            "A custom id and url cannot both be specified",
        )
    )


def test_embed_urls_are_http_or_attachments() -> None:
    validate_message_body(
        {
            "embeds": [
                {
                    "title": "ok",
                    "url": "https://example.com",
                    "author": {"name": "a", "url": "http://example.com", "icon_url": "attachment://a.png"},
                    "footer": {"text": "f", "icon_url": "https://example.com/f.png"},
                    "image": {"url": "attachment://cover.png"},
                    "thumbnail": {"url": "https://example.com/t.png"},
                }
            ]
        },
        creating=True,
    )
    bad_web = "Scheme \"attachment\" is not supported. Scheme must be one of ('http', 'https')."
    bad_media = "Scheme \"ftp\" is not supported. Scheme must be one of ('http', 'https', 'attachment')."

    assert form_errors(
        {
            "embeds": [
                {
                    "url": "attachment://a.png",
                    "author": {"name": "a", "url": "discord://x"},
                    "image": {"url": "ftp://example.com/i.png"},
                }
            ]
        }
    ) == {
        "embeds": {
            "0": {
                "url": error("URL_TYPE_INVALID_SCHEME", bad_web),
                "author": {
                    "url": error(
                        "URL_TYPE_INVALID_SCHEME",
                        "Scheme \"discord\" is not supported. Scheme must be one of ('http', 'https').",
                    )
                },
                "image": {"url": error("URL_TYPE_INVALID_SCHEME", bad_media)},
            }
        }
    }


def test_components_v2_messages_hold_at_most_40_components() -> None:
    text = {"type": 10, "content": "hi"}
    forty = [{"type": 17, "components": [text] * 19}, {"type": 17, "components": [text] * 19}]
    validate_message_body({"flags": 1 << 15, "components": forty}, creating=True)

    forty_one = [*forty, text]
    assert form_errors({"flags": 1 << 15, "components": forty_one}) == {
        "components": error("BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
    }
