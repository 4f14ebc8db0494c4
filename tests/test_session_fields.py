"""One table says where each Realtime session setting lives; the projector's merge and
the simulator's session.update read it the same way, GA and beta."""

from __future__ import annotations

from typing import Any

import pytest

from rtrec.protocols.realtime.config import merge_session
from rtrec.protocols.realtime.session_fields import SESSION_FIELDS, spelled
from rtrec.sim.config import SimConfig


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


def test_spelled_finds_each_spelling_ga_first() -> None:
    session = {"audio": {"output": {"voice": "ash"}}, "voice": "marin"}
    found = [(spelling.beta, value) for spelling, value in spelled(session, "voice")]
    assert found == [(False, "ash"), (True, "marin")]
    assert spelled({"audio": None}, "voice") == []
    assert spelled({"audio": {"output": "x"}}, "speed") == []


@pytest.mark.parametrize("beta", [False, True])
@pytest.mark.parametrize(
    ("name", "value", "attribute", "applied"),
    [
        ("voice", "ash", "voice", "ash"),
        ("speed", 1.3, "speed", 1.3),
        ("turn_detection", None, "turn_detection", None),
        ("noise_reduction", {"type": "near_field"}, "noise_reduction", {"type": "near_field"}),
        ("transcription", {"model": "whisper-1"}, "transcription", {"model": "whisper-1"}),
        ("max_output_tokens", 99, "max_output_tokens", 99),
        ("output_modalities", ["text"], "output_modalities", ["text"]),
    ],
)
def test_projector_and_simulator_read_a_setting_from_the_same_place(
    name: str, value: Any, attribute: str, applied: Any, beta: bool
) -> None:
    spellings = [s for s in SESSION_FIELDS[name] if s.beta == beta]
    assert spellings, f"{name} has a {'beta' if beta else 'GA'} spelling"
    session = _nest(spellings[0].path, value)
    config = SimConfig(model="m")
    config.apply(session)
    assert getattr(config, attribute) == applied
    assert merge_session({}, session)[name] == value


def test_where_both_spellings_appear_the_projector_takes_ga_and_the_simulator_beta() -> None:
    session = {"audio": {"output": {"voice": "ash"}}, "voice": "marin"}
    assert merge_session({}, session)["voice"] == "ash"
    config = SimConfig(model="m")
    config.apply(session)
    assert config.voice == "marin"
