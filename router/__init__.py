"""A phone menu router for LiveKit telephony: menus.yaml in, SIP REFER out.

Layout: `router.core` is the sans-I/O menu engine (model, loader, checker,
navigator); `router.runtime` is the LiveKit shell around it; `router.admin` holds
the admin commands; `router.stack` brings up a local LiveKit stack for trying and
testing the router.
"""

__version__ = "0.1.0"
