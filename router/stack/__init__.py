"""The local LiveKit telephony stack for trying and testing the router.

- `router.stack.install`: builds livekit-server v1.13.5 and the SIP stand-in into a cache
  (``python -m router.stack.install``).
- `router.stack.local`: `LocalStack` runs Redis, livekit-server and the SIP stand-in on
  127.0.0.1 (``python -m router.stack.local``); `ports` finds free ports, `processes`
  starts and ends its processes (each in its own group), `provision` creates the trunk
  and the dispatch rule.
- `router/stack/sipstandin/`: the SIP stand-in for livekit-sip (Go), see its README.md.
- `router.stack.harness`: `RouterProcess`, the router as a child process (tests, benchmarks,
  `router local`).
- `router/stack/sipphone/`: a scripted SIP phone (``python -m router.stack.caller``).
"""
