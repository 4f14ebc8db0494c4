"""Google Gemini Live (BidiGenerateContent): messages keyed by their top-level field.

A Gemini Live message has no `type`: it is an object with one main field
(`setup`, `clientContent`, `realtimeInput`, `toolResponse` from the client;
`setupComplete`, `serverContent`, `toolCall`, `toolCallCancellation`, `goAway`,
`sessionResumptionUpdate`, `usageMetadata` from the server).  The google-genai SDK
writes the top-level field in snake_case (`client_content`) and everything inside in
camelCase; servers write camelCase throughout.  Both are read.
"""
