"""The requests the phone sends, built: headers, Contact, the dialog's route set, CANCEL, ACK.

What every request carries (RFC 3261 8.1.1), the route of a request inside the dialog
(12.2.1.1, loose and strict routers), CANCEL (9.1) and both ACKs (17.1.1.3 for a
non-2xx final, 13.2.2.4 for a 2xx). Sans-I/O like the dialog that owns it: it builds
messages and says where they go; sending is the dialog's.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets
from collections.abc import Callable, Sequence

from router.stack.sipphone.message import (
    HeaderBuilder,
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    new_branch,
)
from router.stack.sipphone.report import Address

__all__ = ["USER_AGENT", "RequestBuilder"]

USER_AGENT = "livekit-menu-router-caller/0.1"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RequestBuilder:
    """One dialog's outgoing requests: its identity, CSeq, remote target and route set."""

    def __init__(
        self,
        target_uri: SipUri,
        *,
        call_id: str,
        caller_id: str,
        local_host: str,
        note: Callable[[str], None],
    ) -> None:
        self.target_uri = target_uri
        self.call_id = call_id
        self.caller_id = caller_id
        self.local_host = local_host
        self.local_sip: Address = (local_host, 0)
        """The SIP socket's address, once bound (Via and Contact carry its port)."""
        self.target_addr: Address | None = None
        """Where the INVITE went, once the sockets are bound."""
        self.cseq = secrets.randbelow(1000) + 1
        self.invite_cseq = self.cseq
        self.from_hdr = ""
        self.to_hdr = ""
        """The To header of requests: the target's, then the 2xx's (with the remote tag)."""
        self.remote_target: str | None = None
        """The far end's Contact (RFC 3261 12.1.2); target refresh requests change it."""
        self.route_set: list[str] = []
        self._note = note

    def host_for_uri(self) -> str:
        host = self.local_host
        return f"[{host}]" if ":" in host else host

    def contact(self) -> str:
        uri = SipUri(host=self.host_for_uri(), user=self.caller_id, port=self.local_sip[1])
        return f"<{uri}>"

    def base_headers(self, method: str, cseq: int, to: str, branch: str) -> HeaderBuilder:
        """Via, Max-Forwards, From, To, Call-ID, CSeq and User-Agent (RFC 3261 8.1.1)."""
        hb = HeaderBuilder()
        hb.add(
            "Via",
            Via(
                host=self.host_for_uri(),
                port=self.local_sip[1],
                params=(("branch", branch), ("rport", None)),
            ),
        )
        hb.add("Max-Forwards", 70)
        hb.add("From", self.from_hdr)
        hb.add("To", to)
        hb.add("Call-ID", self.call_id)
        hb.add("CSeq", f"{cseq} {method}")
        hb.add("User-Agent", USER_AGENT)
        return hb

    def next_cseq(self) -> int:
        self.cseq += 1
        return self.cseq

    def dest_for(self, uri_text: str) -> Address:
        """Where a request to this URI goes: its maddr/host and port, if an IP literal.

        A hostname falls back to the INVITE's destination (every peer here is one
        box); real DNS (RFC 3263) is out of scope for a test phone.
        """
        assert self.target_addr is not None
        try:
            uri = SipUri.parse(uri_text)
        except SipParseError:
            self._note(f"cannot route to {uri_text!r}; using the INVITE's destination")
            return self.target_addr
        host = uri.param("maddr") or uri.bare_host
        if not _is_ip(host):
            return self.target_addr
        return (host, uri.port or 5060)

    def route(self) -> tuple[str, list[str], Address]:
        """Request-URI, Route headers and next hop inside the dialog (RFC 3261 12.2.1.1)."""
        target = self.remote_target or str(self.target_uri)
        routes = list(self.route_set)
        if not routes:
            return target, routes, self.dest_for(target)
        first = NameAddr.parse(routes[0]).uri
        dest = self.dest_for(first)
        if SipUri.parse(first).param("lr") is not None:
            return target, routes, dest
        return first, [*routes[1:], f"<{target}>"], dest  # strict router

    def invite(
        self,
        *,
        local_tag: str,
        display_name: str | None,
        extra: Sequence[tuple[str, str]],
        body: bytes,
    ) -> SipRequest:
        """The INVITE to the target, with our From (`local_tag`, `display_name`), Contact,
        `extra` headers and the SDP offer `body` (RFC 3261 8.1.1); sets the dialog's From
        and To for the requests after it."""
        local = NameAddr(
            uri=str(SipUri(host=self.host_for_uri(), user=self.caller_id)),
            display=display_name,
            params=(("tag", local_tag),),
        )
        self.from_hdr = str(local)
        t = self.target_uri
        self.to_hdr = str(NameAddr(uri=str(SipUri(host=t.host, user=t.user, port=t.port))))
        uri = str(dataclasses.replace(t, headers=""))
        hb = self.base_headers("INVITE", self.invite_cseq, self.to_hdr, new_branch())
        hb.add("Contact", self.contact())
        hb.extend(list(extra))
        hb.add("Content-Type", "application/sdp")
        return SipRequest(method="INVITE", uri=uri, headers=hb.build(), body=body)

    def confirm(self, resp: SipResponse) -> tuple[SipRequest, Address]:
        """The dialog as the INVITE's 2xx sets it (RFC 3261 12.1.2: its To with the remote
        tag, the remote target from its Contact, the route set from its Record-Route,
        reversed), and the ACK of that 2xx."""
        self.to_hdr = resp.require("To")
        contact = resp.contact
        if contact is None:
            self._note("2xx without Contact; sending in-dialog requests to the target")
            self.remote_target = str(self.target_uri)
        else:
            self.remote_target = contact.uri
        self.route_set = list(reversed(resp.header_values("Record-Route")))
        return self.ack_for_2xx()

    def notify(
        self, refer_cseq: int, sipfrag: str, subscription_state: str
    ) -> tuple[SipRequest, Address]:
        """A NOTIFY for the REFER of CSeq `refer_cseq`, its body the `sipfrag` status line
        (RFC 3515 2.4.4; RFC 3420)."""
        return self.in_dialog(
            "NOTIFY",
            extra=[
                ("Event", f"refer;id={refer_cseq}"),
                ("Subscription-State", subscription_state),
            ],
            body=(sipfrag + "\r\n").encode("ascii"),
            content_type="message/sipfrag;version=2.0",
        )

    def in_dialog(
        self,
        method: str,
        *,
        extra: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> tuple[SipRequest, Address]:
        """Build a request inside the dialog, with the route set."""
        ruri, routes, dest = self.route()
        hb = self.base_headers(method, self.next_cseq(), self.to_hdr, new_branch())
        for r in routes:
            hb.add("Route", r)
        if method in ("NOTIFY", "INVITE", "UPDATE", "REFER", "SUBSCRIBE"):
            hb.add("Contact", self.contact())
        hb.extend(list(extra))
        if body and content_type:
            hb.add("Content-Type", content_type)
        return SipRequest(method=method, uri=ruri, headers=hb.build(), body=body), dest

    def cancel(self, invite: SipRequest) -> SipRequest:
        """The CANCEL of `invite`: its Via, From, To, Call-ID and Route (RFC 3261 9.1)."""
        return self._like_invite(invite, "CANCEL", invite.require("To"), agent=True)

    def ack_for_failure(self, invite: SipRequest, resp: SipResponse) -> SipRequest:
        """The ACK of a non-2xx final, in the INVITE's transaction (RFC 3261 17.1.1.3)."""
        return self._like_invite(invite, "ACK", resp.require("To"), agent=False)

    def ack_for_2xx(self) -> tuple[SipRequest, Address]:
        """The ACK of a 2xx: its own transaction, a new branch, the INVITE's CSeq number,
        through the route set (RFC 3261 13.2.2.4)."""
        ruri, routes, dest = self.route()
        hb = self.base_headers("ACK", self.invite_cseq, self.to_hdr, new_branch())
        for r in routes:
            hb.add("Route", r)
        return SipRequest(method="ACK", uri=ruri, headers=hb.build()), dest

    def _like_invite(self, invite: SipRequest, method: str, to: str, *, agent: bool) -> SipRequest:
        hb = HeaderBuilder()
        hb.add("Via", invite.header_values("Via")[0])
        hb.add("Max-Forwards", 70)
        hb.add("From", invite.require("From"))
        hb.add("To", to)
        hb.add("Call-ID", self.call_id)
        hb.add("CSeq", f"{self.invite_cseq} {method}")
        for r in invite.header_values("Route"):
            hb.add("Route", r)
        if agent:
            hb.add("User-Agent", USER_AGENT)
        return SipRequest(method=method, uri=invite.uri, headers=hb.build())
