"""Trying a menu in the browser: `router local`'s page and `router try`.

- `caller`: how the router recognises a browser caller (only when started for trying);
- `events`: the typed events and participant attributes the router publishes to the page;
- `transfer`: `PageTransferrer`, a transfer answered on the page instead of a SIP REFER;
- `server`: the page, its token endpoint and the menu graph, on 127.0.0.1 (aiohttp);
- `cli`: `router try`.

See docs/trying-menus.md.
"""
