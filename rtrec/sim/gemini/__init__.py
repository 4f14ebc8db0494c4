"""The simulated Gemini Live server (BidiGenerateContent) and the demo's Gemini client."""
