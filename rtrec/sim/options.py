"""How a simulated server behaves, whichever protocol it speaks."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER_LINES = (
    "What's the weather like in Paris today?",
    "Could you tell me a short story?",
    "Thanks, that's all for now.",
)


@dataclass
class SimOptions:
    """How the simulator behaves; the defaults suit tests (fast, GA unless asked for beta)."""

    model: str = "gpt-realtime"
    require_key: str | None = None
    protocol: str = "auto"  # "auto" (beta when OpenAI-Beta: realtime=v1), "ga", "beta"
    # Audio streams at this multiple of real time; 0 sends it as fast as possible.
    realtime_factor: float = 0.0
    delta_ms: tuple[int, ...] = (40, 120, 200, 200, 160)
    user_lines: tuple[str, ...] = DEFAULT_USER_LINES
    rate_limits: bool = True
    # Think time before each reply's first output, drawn uniformly from this range (ms)
    # with a generator seeded by `seed`: a real model takes a few hundred ms.  The
    # default (none) keeps tests fast; `rtrec demo` sets one so its latencies look real.
    reply_delay_ms: tuple[float, float] = (0.0, 0.0)
    seed: int | None = None
    # When set, every frame received and sent is appended as (direction, frame): tests
    # compare it with what the relay recorded.
    frame_log: list[tuple[str, str | bytes]] | None = None

    def log(self, direction: str, frame: str | bytes) -> None:
        """Note a frame the simulator received ("client") or sent ("server")."""
        if self.frame_log is not None:
            self.frame_log.append((direction, frame))
