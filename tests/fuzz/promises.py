"""What every datagram parser promises, checked the same way in each protocol's fuzz test."""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from protocols.base import ACTIONS, Malformed, Message


def one_message(datagram: Callable[[bytes, bool], list[Message]], payload: bytes, weirds: Mapping[str, str],
                directions: Collection[str]) -> Message | None:
    """The one message ``datagram`` makes of ``payload``, with an action from the vocabulary, one of
    ``directions`` and a documented weird if any; None when it raised a documented Malformed instead."""
    try:
        messages = datagram(payload, True)
    except Malformed as bad:
        assert bad.code in weirds, bad.code
        return None
    (message,) = messages
    assert isinstance(message, Message)
    assert message.action in ACTIONS and message.direction in directions
    assert message.weird is None or message.weird in weirds
    return message
