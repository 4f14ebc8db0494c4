"""The simulated servers `rtrec demo`, `rtrec sim` and the tests run: OpenAI Realtime (GA
and beta; realtime/ and connection.py), GPT-Live (live/) and Gemini Live (gemini/),
behind one WebSocket server (server.py) that routes by path.

They share options.py (how a simulated server behaves), frames.py (ids, JSON, client
frames), codec.py and audio.py (speech-like audio), tasks.py, vad.py; script.py and each
protocol's script are the demo's scripted clients.
"""
