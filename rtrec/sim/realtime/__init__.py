"""The simulated OpenAI Realtime server's parts (GA and beta).

- `rtrec.sim.connection`: one session's connection, and the table that routes each
  client event type to its handler;
- `client_events`: those handlers;
- `input_audio`: the input buffer, server VAD, commits and input transcription;
- `responses`: a response streamed as its output items (a message or a function call);
- `conversation`: the conversation's items, in order;
- `events`: the server events, built in GA form (`rtrec.sim.beta` respells them).
"""
