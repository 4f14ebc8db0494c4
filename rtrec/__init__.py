"""rtrec: record, rebuild, replay and export realtime voice sessions (OpenAI Realtime,
OpenAI GPT-Live, Google Gemini Live).  README.md's "Code layout" is the map."""

__version__ = "0.1.0"
