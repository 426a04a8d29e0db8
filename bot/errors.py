"""Errors whose message is meant for the person who ran a command."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the user can fix or should know; the message is shown to them as it is."""
