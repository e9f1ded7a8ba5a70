// Command sipapi_v1_13_11 answers LiveKit's Twirp SIP API the way livekit-server
// v1.13.11 does, for the router's transfer tests.
//
// livekit-server v1.13.6 and later cannot be built here (their go.mod replaces pion's
// webrtc, dtls and ice with LiveKit's forks, which the Go module proxy refuses), so
// the router's tests meet the newer server at its HTTP boundary instead. Everything
// between the SIP bridge's answer and the bytes on the wire is upstream's own code, at
// the versions v1.13.11's go.mod names:
//
//   - the bridge's answer crosses psrpc (a local message bus instead of Redis; the same
//     encoding of responses, error codes and error details);
//   - transferSIPParticipant below is the body of SIPService.TransferSIPParticipant in
//     livekit-server v1.13.11 pkg/service/sip.go (the timeout, the response copied from
//     the bridge's, wrapSIPContextError), without the permission checks and the
//     participant look-up, which need a room: the SIP call ID is "SCL_" + identity;
//   - the Twirp server is protocol's livekit.NewSIPServer with xtwirp's default server
//     options and xtwirp.RegisterServer, as pkg/service/server.go builds it (its hooks
//     only log and count).
//
// What the bridge answers is scripted: POST /script with a JSON list of answers, used
// in turn (the last one repeats). Each answer is one of:
//
//	{"response": {"transfer_id", "status", "reason", "sip_code", "sip_text"}}
//	    a bridge that reports the outcome in its response (v1.13.6+ bridges)
//	{"transfer_error": {"code", "msg", "transfer_id", "reason", "sip_code", "sip_text"}}
//	    a failed transfer as an error carrying livekit.SIPTransferError (protocol's
//	    SIPTransferError, "one detail carries the whole outcome")
//	{"sip_status_error": {"msg", "sip_code", "sip_text"}}
//	    livekit-sip v1.11.0: an error wrapping livekit.SIPStatus, through
//	    ApplySIPStatus (livekit/sip pkg/errors/errors.go)
//	{"plain_error": {"code", "msg"}}
//	    livekit-sip v1.0.0: a psrpc error with no SIP status
//	{"delay_s": N, ...}  answer after N seconds (past the ringing timeout: the server's
//	    own deadline answers)
//
// Requests are kept and listed by GET /requests. RoomService.RemoveParticipant answers
// an empty message. It listens on 127.0.0.1 only and prints "listening on ADDR".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/rpc"
	"github.com/livekit/protocol/utils/xtwirp"
	"github.com/livekit/psrpc"
	"github.com/twitchtv/twirp"
	"google.golang.org/protobuf/types/known/durationpb"
)

type sipStatus struct {
	Code int32  `json:"sip_code"`
	Text string `json:"sip_text"`
}

func (s sipStatus) proto() *livekit.SIPStatus {
	if s.Code == 0 {
		return nil
	}
	return &livekit.SIPStatus{Code: livekit.SIPStatusCode(s.Code), Status: s.Text}
}

type answer struct {
	Response *struct {
		TransferID string `json:"transfer_id"`
		Status     string `json:"status"`
		Reason     string `json:"reason"`
		sipStatus
	} `json:"response"`
	TransferError *struct {
		Code       string `json:"code"`
		Msg        string `json:"msg"`
		TransferID string `json:"transfer_id"`
		Reason     string `json:"reason"`
		sipStatus
	} `json:"transfer_error"`
	SIPStatusError *struct {
		Msg string `json:"msg"`
		sipStatus
	} `json:"sip_status_error"`
	PlainError *struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
	} `json:"plain_error"`
	DelayS float64 `json:"delay_s"`
}

// bridge plays the SIP bridge's side of psrpc's SIPInternal service.
type bridge struct {
	mu       sync.Mutex
	script   []answer
	requests []*rpc.InternalTransferSIPParticipantRequest
}

func (b *bridge) next() answer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.script) == 0 {
		return answer{}
	}
	a := b.script[0]
	if len(b.script) > 1 {
		b.script = b.script[1:]
	}
	return a
}

func (b *bridge) CreateSIPParticipant(context.Context, *rpc.InternalCreateSIPParticipantRequest) (*rpc.InternalCreateSIPParticipantResponse, error) {
	return nil, psrpc.NewErrorf(psrpc.Unimplemented, "not part of this stand-in")
}

func (b *bridge) TransferSIPParticipant(ctx context.Context, req *rpc.InternalTransferSIPParticipantRequest) (*rpc.InternalTransferSIPParticipantResponse, error) {
	b.mu.Lock()
	b.requests = append(b.requests, req)
	b.mu.Unlock()
	a := b.next()
	if a.DelayS > 0 {
		select {
		case <-time.After(time.Duration(a.DelayS * float64(time.Second))):
		case <-ctx.Done():
			return nil, psrpc.NewError(psrpc.Canceled, ctx.Err())
		}
	}
	switch {
	case a.Response != nil:
		r := a.Response
		return &rpc.InternalTransferSIPParticipantResponse{
			TransferId: r.TransferID,
			Status:     livekit.SIPTransferStatus(livekit.SIPTransferStatus_value[r.Status]),
			Reason:     livekit.SIPTransferReason(livekit.SIPTransferReason_value[r.Reason]),
			SipStatus:  r.proto(),
		}, nil
	case a.TransferError != nil:
		e := a.TransferError
		detail := &livekit.SIPTransferError{
			TransferId: e.TransferID,
			Reason:     livekit.SIPTransferReason(livekit.SIPTransferReason_value[e.Reason]),
			SipStatus:  e.proto(),
		}
		return nil, psrpc.NewError(psrpc.ErrorCode(e.Code), errors.New(e.Msg), detail)
	case a.SIPStatusError != nil:
		e := a.SIPStatusError
		// livekit/sip v1.11.0: the transfer's error wraps the NOTIFY's status, and
		// Service.TransferSIPParticipant passes it through ApplySIPStatus
		err := fmt.Errorf("%s: %w", e.Msg, e.proto())
		var st *livekit.SIPStatus
		if errors.As(err, &st) {
			err = psrpc.NewError(psrpc.ErrorCodeFromGRPC(st.GRPCStatus().Code()), err)
		}
		return nil, err
	case a.PlainError != nil:
		return nil, psrpc.NewErrorf(psrpc.ErrorCode(a.PlainError.Code), "%s", a.PlainError.Msg)
	}
	// an answer with no outcome: what v1.13.5-era bridges send (emptypb.Empty)
	return &rpc.InternalTransferSIPParticipantResponse{}, nil
}

// sipService is the part of livekit-server's SIPService that transfers.
type sipService struct {
	livekit.SIP // every other method: not served (nil, panics if called)
	client      rpc.SIPInternalClient
	server      rpc.SIPInternalServer
	calls       sync.Map
}

// hasCall makes the bridge claim the call's topic, as livekit-sip does for each call
// it carries (psrpc topics by SIP call ID).
func (s *sipService) hasCall(callID string) error {
	if _, known := s.calls.LoadOrStore(callID, true); known {
		return nil
	}
	return s.server.RegisterTransferSIPParticipantTopic(callID)
}

// TransferSIPParticipant: livekit-server v1.13.11 pkg/service/sip.go, lines 683-736.
func (s *sipService) TransferSIPParticipant(ctx context.Context, req *livekit.TransferSIPParticipantRequest) (*livekit.TransferSIPParticipantResponse, error) {
	if req.RoomName == "" {
		return nil, psrpc.NewErrorf(psrpc.InvalidArgument, "Missing room name")
	}
	if req.ParticipantIdentity == "" {
		return nil, psrpc.NewErrorf(psrpc.InvalidArgument, "Missing participant identity")
	}
	ireq := &rpc.InternalTransferSIPParticipantRequest{
		SipCallId:      "SCL_" + req.ParticipantIdentity,
		TransferTo:     req.TransferTo,
		PlayDialtone:   req.PlayDialtone,
		Headers:        req.Headers,
		RingingTimeout: req.RingingTimeout,
	}

	if err := s.hasCall(ireq.SipCallId); err != nil {
		return nil, err
	}

	timeout := 30 * time.Second
	if req.RingingTimeout != nil {
		timeout = req.RingingTimeout.AsDuration()
	}
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	} else {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ireq.RingingTimeout = durationpb.New(timeout)

	iresp, err := s.client.TransferSIPParticipant(ctx, ireq.SipCallId, ireq, psrpc.WithRequestTimeout(timeout))
	if err != nil {
		return nil, wrapSIPContextError(err)
	}
	return &livekit.TransferSIPParticipantResponse{
		TransferId: iresp.GetTransferId(),
		Status:     iresp.GetStatus(),
		Reason:     iresp.GetReason(),
		SipStatus:  iresp.GetSipStatus(),
	}, nil
}

// wrapSIPContextError: livekit-server v1.13.11 pkg/service/sip.go, lines 781-800.
func wrapSIPContextError(err error) error {
	if err == nil {
		return nil
	}
	var psErr psrpc.Error
	if errors.As(err, &psErr) {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return psrpc.NewError(psrpc.DeadlineExceeded, err)
	case errors.Is(err, context.Canceled):
		return psrpc.NewError(psrpc.Canceled, err)
	}
	return err
}

type roomService struct{ livekit.RoomService }

func (roomService) RemoveParticipant(context.Context, *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error) {
	return &livekit.RemoveParticipantResponse{}, nil
}

func main() {
	bus := psrpc.NewLocalMessageBus()
	b := &bridge{}
	srv, err := rpc.NewSIPInternalServer(b, bus)
	if err != nil {
		fail(err)
	}
	client, err := rpc.NewSIPInternalClient(bus)
	if err != nil {
		fail(err)
	}

	// pkg/service/server.go: the same options for every Twirp service
	var options []any
	for _, opt := range xtwirp.DefaultServerOptions() {
		options = append(options, opt)
	}
	mux := http.NewServeMux()
	xtwirp.RegisterServer(mux, livekit.NewSIPServer(&sipService{client: client, server: srv}, options...))
	xtwirp.RegisterServer(mux, livekit.NewRoomServiceServer(roomService{}, options...))
	mux.HandleFunc("POST /script", func(w http.ResponseWriter, r *http.Request) {
		var script []answer
		if err := json.NewDecoder(r.Body).Decode(&script); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.script = script
		b.requests = nil
		b.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /requests", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		out := make([]map[string]any, 0, len(b.requests))
		for _, req := range b.requests {
			out = append(out, map[string]any{
				"sip_call_id":     req.SipCallId,
				"transfer_to":     req.TransferTo,
				"play_dialtone":   req.PlayDialtone,
				"headers":         req.Headers,
				"ringing_timeout": req.RingingTimeout.AsDuration().Seconds(),
			})
		}
		_ = json.NewEncoder(w).Encode(out)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	_ = os.Stdout.Sync()
	fail(http.Serve(ln, mux))
}

var _ = twirp.NewError // the encoder of every answer, through NewSIPServer

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
