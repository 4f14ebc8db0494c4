"""README's pytest example, pasted into a fresh project of its own and run by a real pytest.

The project has only what README says it needs: its own pytest.ini (no asyncio_mode),
no conftest.py, an agent module, and a recording of that agent's call exported with
`rtrec export`.  Nothing of rtrec's own test setup reaches it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

from openai import AsyncOpenAI

from rtrec.recorder.service import Recorder
from rtrec.sim.server import Simulator
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

MY_AGENT = '''
import json

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


async def run_my_agent(connection):
    """Ask about the weather, answer the tool call, return the spoken answer."""
    await connection.session.update(
        session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER]}
    )
    question = {"type": "input_text", "text": "What's the weather like in Paris today?"}
    await connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [question]}
    )
    await connection.response.create()
    async for event in connection:
        if event.type == "response.function_call_arguments.done":
            forecast = {"city": "Paris", "forecast": "sunny and 22 degrees"}
            output = {"type": "function_call_output", "call_id": event.call_id,
                      "output": json.dumps(forecast)}
            await connection.conversation.item.create(item=output)
            await connection.response.create()
        elif event.type == "response.output_text.done":
            return event.text
'''


def readme_example() -> str:
    """The README's pytest example, exactly as printed."""
    found = re.search(r"```python\n(# tests/test_weather_call\.py\n.*?)```", README, re.DOTALL)
    assert found, "README has no pytest example starting with # tests/test_weather_call.py"
    return found[1]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("my_agent", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_project(where: Path) -> Path:
    project = where / "my-voice-agent"
    (project / "tests" / "calls").mkdir(parents=True)
    (project / "my_agent.py").write_text(textwrap.dedent(MY_AGENT))
    # What a user writes: a pytest.ini of their own, nothing about asyncio in it.
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests\npythonpath = .\n")
    (project / "tests" / "test_weather_call.py").write_text(readme_example())
    return project


async def record_the_agent(project: Path, db_path: str) -> None:
    """The call made once through rtrec's relay (here against the simulator)."""
    agent = load(project / "my_agent.py")
    async with (
        Simulator() as sim,
        Recorder(db_path, upstream=sim.url, port=0, live_status=False) as recorder,
    ):
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=f"{recorder.url}/v1")
        async with client.realtime.connect(model="gpt-realtime") as connection:
            answer = await asyncio.wait_for(agent.run_my_agent(connection), 30)
    assert "sunny" in answer


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "RTREC_"))}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_example_runs_as_pasted_in_a_fresh_project(tmp_path):
    project = make_project(tmp_path)
    db_path = str(tmp_path / "recorded.db")
    asyncio.run(record_the_agent(project, db_path))
    exported = project / "tests" / "calls" / "weather.jsonl"
    assert run_cli("export", "last", "-o", str(exported), db_path=db_path).returncode == 0

    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert not (project / "conftest.py").exists()

    # And it is a test that can fail: an agent that answers the tool differently.
    agent = project / "my_agent.py"
    agent.write_text(agent.read_text().replace("sunny and 22 degrees", "rain"))
    failing = run_pytest(project)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "rtrec strict" in failing.stdout and "rain" in failing.stdout
