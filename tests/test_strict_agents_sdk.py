"""--strict with a client nobody here wrote: the OpenAI Agents SDK for Python, replayed
against its own recording.  The same client passes however its independent events
(audio appends, item retrievals, tool rounds) fall; a changed conversation fails with a
message naming the recorded event and the one received."""

from __future__ import annotations

import asyncio

import pytest

from rtrec.pytest_plugin import start_replay_server
from rtrec.recorder.service import Recorder
from rtrec.replay.strict import STRICT_EXTRA, STRICT_MISMATCH
from rtrec.sim.options import SimOptions
from rtrec.sim.server import Simulator
from tests.agents_sdk_call import CALL, FORECAST, Turn, agent_call
from tests.conftest import run_cli

REPLAYS = 3  # the SDK's own order varies from run to run: several runs, each must pass


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> str:
    db_path = str(tmp_path_factory.mktemp("agents") / "agents.db")

    async def record() -> None:
        async with (
            Simulator(SimOptions()) as sim,
            Recorder(db_path, upstream=sim.url, port=0, live_status=False) as recorder,
        ):
            run = await agent_call(f"{recorder.url}/v1/realtime?model=gpt-realtime")
            assert run.turns_done == len(CALL) and not run.errors

    asyncio.run(record())
    return db_path


async def replayed(db_path: str, **call: object):
    server = start_replay_server(db_path, pace="client", strict=True)
    try:
        run = await agent_call(f"{server.url}/realtime?model=gpt-realtime", **call)  # type: ignore[arg-type]
    finally:
        server.stop()
    (report,) = server.reports
    return run, report


def test_the_recording_has_what_made_strict_fail_before(recorded):
    types = run_cli(
        "sql", "SELECT group_concat(type, ' ') FROM events WHERE direction = 'client'",
        "--csv", "--db", recorded,
    ).stdout.decode()  # fmt: skip
    # Retrievals (when a transcript arrives, racing the tool round and the replies), a
    # truncation on barge-in, tool rounds, and audio streaming through all of them.
    for kind in (
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "response.create",
        "input_audio_buffer.append",
    ):
        assert kind in types, kind


@pytest.mark.parametrize("attempt", range(REPLAYS))
async def test_the_same_client_passes_strict_with_no_type_filter(recorded, attempt):
    run, report = await replayed(recorded)
    assert report.strict_failure is None, report.strict_failure
    assert report.completed and run.turns_done == len(CALL) and not run.errors


async def test_another_tool_output_fails_naming_both(recorded):
    _, report = await replayed(recorded, forecast={**FORECAST, "forecast": "rain"})
    assert report.close_code == STRICT_MISMATCH
    failure = report.strict_failure or ""
    assert "expected conversation.item.create with item.output = " in failure
    assert "sunny and 22 degrees" in failure and "rain" in failure


async def test_a_missing_user_turn_fails(recorded):
    _, report = await replayed(recorded, turns=CALL[:-1])
    assert "the client left after" in (report.strict_failure or "")
    assert "the next being conversation.item.create" in (report.strict_failure or "")


async def test_an_extra_user_turn_fails(recorded):
    _, report = await replayed(recorded, turns=(*CALL, Turn("One more thing.")))
    assert report.close_code == STRICT_EXTRA
    assert "received conversation.item.create" in (report.strict_failure or "")


async def test_another_typed_turn_fails_naming_both(recorded):
    _, report = await replayed(recorded, turns=(*CALL[:-1], Turn("Thanks, see you.")))
    assert report.close_code == STRICT_MISMATCH
    failure = report.strict_failure or ""
    assert '"Thanks, bye."' in failure and '"Thanks, see you."' in failure
