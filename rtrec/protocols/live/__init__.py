"""OpenAI GPT-Live (`/v1/live/sessions`): its adapter, event model and projection."""
