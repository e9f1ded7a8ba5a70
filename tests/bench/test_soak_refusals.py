"""The stack's refusals at load, told apart by the SIP bridge's log (bench/soak/refusals.py).

Run 7 counted 12 calls "refused with every part up" as wrong: 11 were the bridge's `503`
after psrpc's 1 s server selection found no livekit-server to claim its request, which
upstream livekit-sip does alike (reliability.md, finding 24). The log lines below are
the shape of the kept run's `stack/sip.log` (the caller's number is the soak's own).
"""

from __future__ import annotations

from pathlib import Path

from bench.soak.refusals import unclaimed_callers, undispatched_callers, unpublished_callers
from tests.bench.soak_figures import figures_of, refused


def _line(level: str, where: str, message: str, fields: str) -> str:
    return f"2026-11-30T21:30:16.825Z\t{level}\tsipstandin\tsipstandin/{where}\t{message}\t{fields}"


UNCLAIMED = _line(
    "WARN",
    "service.go:337",
    "rejecting inbound, dispatch rule evaluation failed",
    '{"callID": "SCL_3tNBW5mGCSoM", "from": "+15557700212", "to": "+15550100001", '
    '"error": "no response from servers"}',
)
AUTH_UNCLAIMED = _line(
    "WARN",
    "service.go:305",
    "rejecting inbound, auth check failed",
    '{"callID": "SCL_zNvKaiaJdLrm", "from": "+15557700213", "error": "no response from servers"}',
)
JOIN_FAILED = _line(
    "ERROR",
    "call.go:181",
    "cannot join room",
    '{"callID": "SCL_7BSEdAtJxDr5", "from": "+15557700223", '
    '"error": "could not establish signal connection"}',
)
NO_TRUNK = _line(
    "INFO", "service.go:311", "rejecting inbound, no trunk", '{"from": "+15557700300"}'
)


def test_only_refusals_no_server_claimed_are_named() -> None:
    log = [UNCLAIMED, AUTH_UNCLAIMED, JOIN_FAILED, NO_TRUNK, "not a zap line {", ""]
    assert unclaimed_callers(log) == {"+15557700212", "+15557700213"}


def test_the_soak_counts_an_unclaimed_refusal_as_the_stacks_not_as_wrong(
    tmp_path: Path,
) -> None:
    figures = figures_of(
        tmp_path, [refused(212), refused(223)], bridge_log=[UNCLAIMED, JOIN_FAILED]
    )
    assert figures.outcomes["refused by the stack"] == 2
    assert figures.refused_unclaimed == 1
    wrong = [f for f in figures.failures if "with every part up" in f]
    # the bridge's failed join (a 500 at load) is no psrpc selection: still wrong
    assert wrong == ["call 223 (busy_486): not answered (rejected, 503, None) with every part up"]


def _server(at: str, message: str, fields: str, where: str = "agent/client.go:181") -> str:
    return f"2026-12-01T02:19:{at}Z\tINFO\tlivekit\t{where}\t{message}\t{fields}"


def _created(at: str, caller: str) -> str:
    fields = f'{{"room": "call-_{caller}_ySXskCEjReoN", "selectedNodeID": "ND_XNYK8MkZkiNh"}}'
    return _server(at, "selected node for room", fields, "service/roomallocator.go:166")


def _assigned(at: str, caller: str) -> str:
    fields = (
        '{"jobID": "AJ_fTW6fHfce9TB", "jobType": "JT_ROOM", '
        f'"room": "call-_{caller}_ySXskCEjReoN", "roomID": "RM_MaALwSfkC2Gv"}}'
    )
    return _server(at, "assigned job to worker", fields, "service/agentservice.go:412")


JOB_LOST = _server(
    "54.600",
    "failed to send job request",
    '{"error": "no response from servers", "namespace": "", "jobType": "JT_ROOM"}',
)


def test_a_room_livekit_server_never_dispatched_is_told_by_its_lost_job_request() -> None:
    # run 11: call 918's room created at 52.993, its one job request lost at 54.600
    log = [
        _created("52.993", "+15557700918"),
        _created("53.100", "+15557700919"),
        _assigned("53.400", "+15557700919"),  # dispatched: not the lost one's
        JOB_LOST,
        _created("59.900", "+15557700920"),  # after the loss: not its room
    ]
    assert undispatched_callers(log) == {"+15557700918"}
    assert undispatched_callers(log[:3]) == frozenset(), "no lost request, no such room"


def test_the_soak_counts_an_undispatched_call_as_the_stacks(tmp_path: Path) -> None:
    rang = refused(918)
    rang.outcome, rang.status = "timeout", 487  # the phone gave up ringing
    figures = figures_of(
        tmp_path, [rang, refused(921)], server_log=[_created("52.993", "+15557700918"), JOB_LOST]
    )
    assert figures.refused_undispatched == 1
    wrong = [f for f in figures.failures if "with every part up" in f]
    assert wrong == ["call 921 (busy_486): not answered (rejected, 503, None) with every part up"]


def _publish_time_out(at: str, caller: str, participant: str) -> str:
    fields = (
        f'{{"room": "call-_{caller}_mRV8HGn8FV2N", "roomID": "RM_nj6gBDKUiphM", '
        f'"participant": "{participant}", "participantID": "PA_jCYbMsJmCW6n", '
        '"remote": false, "trackID": "TR_AMNm7hLizCyCTV", "error": "publish time out"}'
    )
    return (
        f"2026-12-01T05:37:{at}Z\tERROR\tlivekit\tsupervisor/participant_supervisor.go:156"
        f"\tsupervisor error on publication\t{fields}"
    )


def test_a_call_whose_router_track_never_reached_the_server_is_told_by_its_supervisor(
    tmp_path: Path,
) -> None:
    # run 17: calls 914 and 917, the bridge never subscribed, `480` after 36 s
    log = [
        _publish_time_out("56.192", "+15557700914", "agent-AJ_KYrDP2asyn2A"),
        _publish_time_out("56.300", "+15557700930", "sip_+15557700930"),  # not the router's
        _created("52.993", "+15557700917"),
    ]
    assert unpublished_callers(log) == {"+15557700914"}
    lost, other = refused(914), refused(930)
    lost.status = other.status = 480
    figures = figures_of(tmp_path, [lost, other], server_log=log)
    assert figures.refused_unpublished == 1
    wrong = [f for f in figures.failures if "with every part up" in f]
    assert wrong == ["call 930 (busy_486): not answered (rejected, 480, None) with every part up"]
