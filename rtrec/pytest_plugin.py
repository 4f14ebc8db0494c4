"""rtrec's pytest plugin (registered through the `pytest11` entry point).

Fixtures for testing a Realtime client against a recorded session live here.
"""
