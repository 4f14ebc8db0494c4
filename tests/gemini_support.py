"""What the Gemini Live tests share: TLS in front of the relay, and the SDK's call.

The google-genai SDK always opens `wss://` (it swaps the scheme of `base_url`), so
the tests put a TLS terminator in front of the relay (and of `replay --serve`): real
TLS on loopback with a certificate made for 127.0.0.1, the bytes inside passed
through unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google import genai
from google.genai import types

from rtrec.sim.audio import silence, speech_like

SDK_KEY = "test-key"
SDK_MODEL = "gemini-live-2.5-flash-preview"
INPUT_RATE = 16000
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING)},
        required=["city"],
    ),
)
FORECAST = {"city": "Paris", "forecast": "rain"}


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class TlsFront:
    """TLS on 127.0.0.1, each connection passed through to `backend` (host, port)."""

    backend: tuple[str, int]
    cert: Path
    key: Path
    _server: asyncio.Server | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> TlsFront:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        """What the SDK takes as base_url (it connects with wss:// to the same place)."""
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._pipes.discard(task)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, ssl.SSLError, RuntimeError):
            writer.close()


def sdk_client(front: TlsFront, api_version: str | None = None) -> genai.Client:
    """The google-genai client, pointed at the relay behind the TLS front.

    google-genai 3.x speaks `v1` (…generativelanguage.v1.GenerativeService…) unless
    told otherwise; some servers (aimock) know `v1beta` only.
    """
    return genai.Client(
        api_key=SDK_KEY,
        http_options=types.HttpOptions(
            base_url=front.base_url,
            api_version=api_version,
            async_client_args={"ssl": front.client_context()},
        ),
    )


def sdk_config() -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        system_instruction="You are a concise weather assistant.",
        tools=[types.Tool(function_declarations=[WEATHER])],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )


def spoken(text: str) -> list[bytes]:
    """16 kHz PCM16 'saying' text then 0.7 s of silence, in 100 ms chunks."""
    samples = np.concatenate([speech_like(text, INPUT_RATE), silence(0.7, INPUT_RATE)])
    step = INPUT_RATE // 10
    return [samples[i : i + step].astype("<i2").tobytes() for i in range(0, len(samples), step)]


@dataclass
class CallLog:
    """What the SDK saw of the call."""

    heard: list[str] = field(default_factory=list)  # input transcription
    said: list[str] = field(default_factory=list)  # output transcription
    audio: list[bytes] = field(default_factory=list)
    calls: list[Any] = field(default_factory=list)
    turns_complete: int = 0


async def sdk_call(client: genai.Client) -> CallLog:
    """A spoken question answered through a tool call, then a typed follow-up."""
    log = CallLog()
    async with client.aio.live.connect(model=SDK_MODEL, config=sdk_config()) as session:
        for chunk in spoken("What's the weather like in Paris today?"):
            await session.send_realtime_input(
                audio=types.Blob(data=chunk, mime_type=f"audio/pcm;rate={INPUT_RATE}")
            )
        await _until_turn_complete(session, log)
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="And tomorrow?")]),
            turn_complete=True,
        )
        await _until_turn_complete(session, log)
    return log


async def _until_turn_complete(session: Any, log: CallLog) -> None:
    async for message in _messages(session):
        content = message.server_content
        if message.tool_call is not None:
            log.calls.extend(message.tool_call.function_calls or [])
            responses = [
                types.FunctionResponse(id=call.id, name=call.name, response=FORECAST)
                for call in message.tool_call.function_calls or []
            ]
            await session.send_tool_response(function_responses=responses)
        if content is None:
            continue
        if content.input_transcription and content.input_transcription.text:
            log.heard.append(content.input_transcription.text)
        if content.output_transcription and content.output_transcription.text:
            log.said.append(content.output_transcription.text)
        if message.data:
            log.audio.append(message.data)
        if content.turn_complete:
            log.turns_complete += 1
            return


async def _messages(session: Any) -> AsyncIterator[Any]:
    while True:
        async for message in session.receive():
            yield message
