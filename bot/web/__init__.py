"""The web face: the coordinators' console and each unit's own form (aiohttp, server-rendered).

aiohttp rather than Starlette: it is already Loa's HTTP server (webhooks, sandboxes), it serves
in the bot's own event loop next to the channels, and it parses forms and uploads itself, so the
web adds no server, no ASGI layer and no dependency.
"""
