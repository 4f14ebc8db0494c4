"""The simulated GPT-Live server (`/v1/live/sessions`, its sideband and fork)."""
