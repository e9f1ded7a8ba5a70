"""The menu engine: no asyncio, no LiveKit, no I/O beyond reading the menu file."""
