"""Switchboard on Azure Functions (Python v2 programming model); see docs/azure.md.

App settings: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, SWITCHBOARD_RULES,
SWITCHBOARD_STORE_URL (PostgreSQL: instances scale out), SWITCHBOARD_TOKEN_SECRET.
"""

from switchboard.service.azure import build_function_app
from switchboard.settings import load_settings

app = build_function_app(load_settings(mode="function"))
