# The menu router as a small container image: `router start` as a non-root user.
#
#   docker build -t livekit-menu-router .
#   docker run --init -e LIVEKIT_URL -e LIVEKIT_API_KEY -e LIVEKIT_API_SECRET \
#       -v "$PWD/menus.yaml:/etc/router/menus.yaml:ro" livekit-menu-router
#
# Build arguments:
#   BASE_IMAGE   a Debian-based image with Python 3.11 and its venv module
#                (default python:3.11-slim; `python -m router.stack.image` builds a
#                stand-in from Debian packages where no registry can be reached)
#   PIP_CERT     path (inside the build) of a CA bundle pip must trust; only for
#                builds behind an intercepting proxy, empty otherwise
#   VERSION, REVISION, SOURCE, LICENSES
#                the OCI labels of the same names (`python -m router.stack.image`
#                passes the package version, the git commit and the origin's URL)
#
# Run time (see docs/deploy.md): the menu file is read from /etc/router/menus.yaml
# (ROUTER_MENUS) and watched for changes, so mount your own there; credentials come
# from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET; call records are JSON
# lines on stdout, logs on stderr (JSON lines, as livekit-agents writes); Prometheus metrics on port 9464; livekit-agents'
# health server on port 8081 (GET / is 200 while the worker is connected to LiveKit).

ARG BASE_IMAGE=python:3.11-slim

# --- build: a virtual environment with the pinned dependencies and the router --------
FROM ${BASE_IMAGE} AS build
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DEFAULT_TIMEOUT=120
RUN python3 -m venv /opt/router
COPY requirements.lock /src/requirements.lock
# The dependencies first: their layer survives edits to the router's own code.
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi; \
    /opt/router/bin/pip install --no-compile -r /src/requirements.lock
COPY pyproject.toml README.md /src/
COPY router /src/router
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi; \
    /opt/router/bin/pip install --no-deps --no-build-isolation /src \
    && /opt/router/bin/pip uninstall --yes setuptools \
    && /opt/router/bin/python -m compileall -q /opt/router/lib

# --- run: the venv, the bundled example menus, an unprivileged user -------------------
FROM ${BASE_IMAGE}
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="livekit-menu-router" \
      org.opencontainers.image.description="A phone menu router (IVR) for LiveKit telephony: menus.yaml in, SIP REFER out." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}"

RUN groupadd --gid 10001 router \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/router --create-home \
        --shell /usr/sbin/nologin router \
    && mkdir -p /etc/router

COPY --from=build /opt/router /opt/router
COPY menus.yaml menus.test.yaml /etc/router/

ENV PATH=/opt/router/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ROUTER_MENUS=/etc/router/menus.yaml \
    ROUTER_METRICS_HOST=0.0.0.0 \
    ROUTER_METRICS_PORT=9464 \
    ROUTER_HEALTH_HOST=0.0.0.0 \
    ROUTER_HEALTH_PORT=8081 \
    ROUTER_RECORDS=- \
    ROUTER_LOG_FORMAT=json \
    ROUTER_PROMPT_CACHE=/var/cache/router/prompts

# Each call runs in a thread of its own, and glibc gives threads their own malloc arenas;
# two bound the heap's spread across them. The RSS growth per call is not fragmentation:
# with the worker's collector (docs/runtime.md, "Memory over many calls") what remains is
# memory the rtc library never frees, the same with two arenas, a fixed mmap threshold or
# jemalloc (docs/reliability.md), so the image adds no other allocator.
ENV MALLOC_ARENA_MAX=2

# Fail the build, not the first call, if the bundled menus are broken, do not do what
# menus.test.yaml expects, or cannot be spoken: every prompt is rendered with espeak-ng
# into the prompt cache, from which the worker loads them at start without synthesis.
RUN router check /etc/router/menus.yaml \
    && router test -q /etc/router/menus.test.yaml \
    && router prompts /etc/router/menus.yaml \
    && chown -R router:router /var/cache/router

USER router:router
WORKDIR /var/lib/router
EXPOSE 9464 8081

# Healthy = the worker has loaded and rendered its menu file, registered, and is connected
# to LiveKit: livekit-agents' health endpoint (503 while it cannot connect). It serves
# with metrics off too (ROUTER_METRICS_PORT=0).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python3 -c "import os, urllib.request; \
urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ.get('ROUTER_HEALTH_PORT', '8081'), timeout=4)"

ENTRYPOINT ["router"]
CMD ["start"]
