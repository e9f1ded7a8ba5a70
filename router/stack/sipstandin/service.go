package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/logger"
	"github.com/livekit/protocol/rpc"
	lksip "github.com/livekit/protocol/sip"
	"github.com/livekit/psrpc"
)

const (
	userAgent             = "LiveKit-SIP-standin"
	defaultRingingTimeout = 3 * time.Minute // as livekit-sip
	// As livekit-sip's transferSIPParticipant (pkg/sip/service.go) in the versions that
	// read the request's ringing timeout: 80 s when the request has none.
	defaultTransferWait = 80 * time.Second
	rpcTimeout          = 10 * time.Second
)

type Service struct {
	conf *Config
	log  logger.Logger

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dua     *sipgo.DialogUA
	contact sip.ContactHeader

	io     rpc.IOInfoClient
	sipRPC rpc.SIPInternalServer

	mu       sync.Mutex
	byDialog map[string]*call // sipgo dialog ID -> call
	byID     map[string]*call // LiveKit call ID (sip.callID) -> call
	pending  map[string]*pendingTransfer

	authMu     sync.Mutex
	challenges map[string]digest.Challenge // From tag -> challenge

	ready   atomic.Bool
	closing atomic.Bool
}

type pendingTransfer struct {
	transferTo string
	done       chan struct{}
	err        error
}

func NewService(conf *Config, log logger.Logger, bus psrpc.MessageBus) (*Service, error) {
	s := &Service{
		conf:       conf,
		log:        log,
		byDialog:   make(map[string]*call),
		byID:       make(map[string]*call),
		pending:    make(map[string]*pendingTransfer),
		challenges: make(map[string]digest.Challenge),
	}
	var err error
	s.io, err = rpc.NewIOInfoClient(bus)
	if err != nil {
		return nil, err
	}
	s.sipRPC, err = rpc.NewSIPInternalServer(s, bus)
	if err != nil {
		return nil, err
	}
	// Outbound calls go to topic "" in livekit-server; answer them with a clear error.
	if err := s.sipRPC.RegisterCreateSIPParticipantTopic(""); err != nil {
		return nil, err
	}
	return s, nil
}

// Start listens for SIP over UDP. It returns once the socket is bound.
func (s *Service) Start(ctx context.Context) error {
	slogger := slog.New(logger.ToSlogHandler(s.log.WithComponent("sipgo")))
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(userAgent),
		sipgo.WithUserAgentHostname(s.conf.NAT1To1IP),
	)
	if err != nil {
		return err
	}
	s.ua = ua
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(slogger))
	if err != nil {
		return err
	}
	listen := net.JoinHostPort(s.conf.ListenIP, strconv.Itoa(s.conf.SIPPort))
	s.cli, err = sipgo.NewClient(ua,
		sipgo.WithClientLogger(slogger),
		sipgo.WithClientHostname(s.conf.NAT1To1IP),
		sipgo.WithClientPort(s.conf.SIPPort),
		sipgo.WithClientConnectionAddr(listen),
	)
	if err != nil {
		return err
	}
	s.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: s.conf.NAT1To1IP, Port: s.conf.SIPPort}}
	s.dua = &sipgo.DialogUA{Client: s.cli, ContactHDR: s.contact}

	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnNotify(s.onNotify)
	s.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	s.srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		// livekit-sip takes RFC 4733 DTMF only; SIP INFO is answered 405.
		_ = tx.Respond(sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
	})
	s.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// Matching CANCELs are handled by the transaction layer (200 + 487).
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})

	// Bind the socket ourselves so that a port in use fails Start.
	pc, err := net.ListenPacket("udp4", listen)
	if err != nil {
		return fmt.Errorf("cannot listen for SIP on udp %s: %w", listen, err)
	}
	go func() {
		if err := s.srv.ServeUDP(pc); err != nil && !s.closing.Load() {
			s.log.Errorw("SIP UDP server stopped", err)
		}
	}()
	s.log.Infow("SIP listening", "udp", listen, "contact", s.contact.Address.String())
	return nil
}

func (s *Service) Stop() {
	s.closing.Store(true)
	s.mu.Lock()
	calls := make([]*call, 0, len(s.byID))
	for _, c := range s.byID {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close(closeShutdown)
		}()
	}
	wg.Wait()
	s.sipRPC.Shutdown()
	if s.ua != nil {
		_ = s.ua.Close()
	}
}

func (s *Service) callByDialog(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDialog[id]
}

func (s *Service) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.callByDialog(req); c != nil && c.dialog != nil {
		_ = c.dialog.ReadAck(req, tx)
	}
}

func (s *Service) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByDialog(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.log.Infow("BYE from caller")
	if err := c.dialog.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	c.close(closeCallerHangup)
}

func (s *Service) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByDialog(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	code, reason, err := c.handleNotify(req)
	if err != nil {
		c.log.Infow("bad NOTIFY", "error", err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

func toSIPUri(u sip.Uri) *livekit.SIPUri {
	tr, _ := u.UriParams.Get("transport")
	out := &livekit.SIPUri{User: u.User, Host: u.Host, Port: uint32(u.Port)}
	switch strings.ToLower(tr) {
	case "tcp":
		out.Transport = livekit.SIPTransport_SIP_TRANSPORT_TCP
	case "tls":
		out.Transport = livekit.SIPTransport_SIP_TRANSPORT_TLS
	case "udp":
		out.Transport = livekit.SIPTransport_SIP_TRANSPORT_UDP
	}
	return out
}

// respond answers an INVITE before a dialog exists.
func respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS"))
	_ = tx.Respond(res)
}

func (s *Service) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if s.closing.Load() {
		respond(req, tx, 503, "Shutting down")
		return
	}
	from, to := req.From(), req.To()
	if from == nil || to == nil || req.CallID() == nil || req.CSeq() == nil {
		respond(req, tx, 400, "Bad request")
		return
	}
	fromTag, _ := from.Params.Get("tag")
	if fromTag == "" {
		respond(req, tx, 400, "No tag in From")
		return
	}
	if toTag, _ := to.Params.Get("tag"); toTag != "" {
		// re-INVITE inside a dialog: keep the media as it is.
		if c := s.callByDialog(req); c != nil && c.answer != nil {
			res := sip.NewResponseFromRequest(req, 200, "OK", c.answer)
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			res.AppendHeader(&s.contact)
			_ = tx.Respond(res)
			return
		}
		respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}

	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		respond(req, tx, 400, "Bad source address")
		return
	}
	callID := lksip.NewCallID()
	log := s.log.WithValues("callID", callID, "fromIP", src.Addr().String(),
		"from", from.Address.User, "to", to.Address.User, "sipCallID", req.CallID().Value())
	log.Infow("processing invite")
	respond(req, tx, 100, "Processing")

	info := &rpc.SIPCall{
		LkCallId:  callID,
		SourceIp:  src.Addr().String(),
		Address:   toSIPUri(req.Recipient),
		From:      toSIPUri(from.Address),
		To:        toSIPUri(to.Address),
		SipCallId: req.CallID().Value(),
	}
	for _, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok {
			info.Via = append(info.Via, &livekit.SIPUri{Host: v.Host, Port: uint32(v.Port)})
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	auth, err := s.io.GetSIPTrunkAuthentication(ctx, &rpc.GetSIPTrunkAuthenticationRequest{
		Call:       info,
		SipCallId:  callID,
		From:       info.From.User,
		FromHost:   info.From.Host,
		To:         info.To.User,
		ToHost:     info.To.Host,
		SrcAddress: info.SourceIp,
	})
	cancel()
	if err != nil {
		log.Warnw("rejecting inbound, auth check failed", err)
		respond(req, tx, 503, "Try again later")
		return
	}
	switch {
	case auth.ErrorCode == rpc.SIPTrunkAuthenticationError_SIP_TRUNK_AUTH_ERROR_NO_TRUNK_FOUND:
		log.Infow("rejecting inbound, no trunk")
		respond(req, tx, 404, "Does not match any SIP Trunks")
		return
	case auth.Drop:
		log.Infow("dropping inbound call as the trunk asks (no response)")
		tx.Terminate()
		return
	case auth.Username != "" && auth.Password != "":
		if !s.checkDigest(log, req, tx, fromTag, auth) {
			return
		}
	}

	ctx, cancel = context.WithTimeout(context.Background(), rpcTimeout)
	disp, err := s.io.EvaluateSIPDispatchRules(ctx, &rpc.EvaluateSIPDispatchRulesRequest{
		SipTrunkId:    auth.SipTrunkId,
		Call:          info,
		SipCallId:     callID,
		CallingNumber: info.From.User,
		CallingHost:   info.From.Host,
		CalledNumber:  info.To.User,
		CalledHost:    info.To.Host,
		SrcAddress:    info.SourceIp,
	})
	cancel()
	if err != nil {
		log.Warnw("rejecting inbound, dispatch rule evaluation failed", err)
		respond(req, tx, 503, "Try again later")
		return
	}
	disp.Upgrade()
	switch disp.Result {
	case rpc.SIPDispatchResult_ACCEPT:
	case rpc.SIPDispatchResult_LEGACY_ACCEPT_OR_PIN:
		if disp.RequestPin {
			log.Infow("rejecting inbound, PIN rules are not supported by the stand-in")
			respond(req, tx, 501, "PIN dispatch rules not supported by the SIP stand-in")
			return
		}
	case rpc.SIPDispatchResult_REQUEST_PIN:
		log.Infow("rejecting inbound, PIN rules are not supported by the stand-in")
		respond(req, tx, 501, "PIN dispatch rules not supported by the SIP stand-in")
		return
	default: // REJECT, DROP
		log.Infow("rejecting inbound, no trunk or dispatch rule matched", "result", disp.Result.String(), "trunk", disp.SipTrunkId)
		respond(req, tx, 404, "Does not match Trunks or Dispatch Rules")
		return
	}
	if disp.RoomName == "" {
		respond(req, tx, 404, "Does not match Trunks or Dispatch Rules")
		return
	}

	o, err := parseOffer(req.Body())
	if err != nil {
		log.Infow("rejecting inbound, bad SDP offer", "error", err)
		if errors.Is(err, errNoCommonCodec) {
			respond(req, tx, 488, "Not Acceptable Here")
		} else {
			respond(req, tx, 400, err.Error())
		}
		return
	}
	c := newCall(s, log, callID, info, disp, o)
	c.run(req, tx)
}

// checkDigest does the Proxy-Authorization digest exchange with the caller.
func (s *Service) checkDigest(log logger.Logger, req *sip.Request, tx sip.ServerTransaction, fromTag string, auth *rpc.GetSIPTrunkAuthenticationResponse) bool {
	h := req.GetHeader("Proxy-Authorization")
	s.authMu.Lock()
	chal, have := s.challenges[fromTag]
	s.authMu.Unlock()
	if h == nil || !have {
		realm := auth.Realm
		if realm == "" {
			realm = userAgent
		}
		chal = digest.Challenge{Realm: realm, Nonce: strconv.FormatInt(time.Now().UnixMicro(), 10), Algorithm: "MD5"}
		s.authMu.Lock()
		if len(s.challenges) > 1000 {
			clear(s.challenges)
		}
		s.challenges[fromTag] = chal
		s.authMu.Unlock()
		res := sip.NewResponseFromRequest(req, 407, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
		_ = tx.Respond(res)
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		respond(req, tx, 401, "Bad credentials")
		return false
	}
	want, err := digest.Digest(&chal, digest.Options{
		Method: req.Method.String(), URI: cred.URI, Username: cred.Username, Password: auth.Password,
	})
	if err != nil || cred.Username != auth.Username || cred.Response != want.Response {
		log.Infow("rejecting inbound, wrong credentials", "username", cred.Username)
		respond(req, tx, 401, "Unauthorized")
		return false
	}
	return true
}

// ---- psrpc SIPInternal ----

func (s *Service) CreateSIPParticipant(ctx context.Context, req *rpc.InternalCreateSIPParticipantRequest) (*rpc.InternalCreateSIPParticipantResponse, error) {
	return nil, psrpc.NewErrorf(psrpc.Unimplemented, "outbound calls (CreateSIPParticipant) are not supported by the SIP stand-in")
}

func (s *Service) TransferSIPParticipant(ctx context.Context, req *rpc.InternalTransferSIPParticipantRequest) (*emptypb.Empty, error) {
	s.log.Infow("transferring SIP call", "callID", req.SipCallId, "transferTo", req.TransferTo)
	s.mu.Lock()
	c := s.byID[req.SipCallId]
	p, existing := s.pending[req.SipCallId]
	if c != nil && !existing {
		p = &pendingTransfer{transferTo: req.TransferTo, done: make(chan struct{})}
		s.pending[req.SipCallId] = p
	}
	s.mu.Unlock()
	if c == nil {
		return &emptypb.Empty{}, psrpc.NewErrorf(psrpc.NotFound, "unknown call")
	}
	if existing {
		if p.transferTo != req.TransferTo {
			return &emptypb.Empty{}, psrpc.NewErrorf(psrpc.InvalidArgument, "call already being transferred elsewhere")
		}
	} else {
		timeout := req.RingingTimeout.AsDuration()
		if timeout <= 0 {
			timeout = defaultTransferWait
		}
		// No earlier answer: as upstream (pkg/sip/service.go, transferSIPParticipant) the
		// transfer runs for exactly the ringing timeout, and livekit-server
		// (pkg/service/sip.go, WithRequestTimeout) waits exactly as long, so its own
		// deadline ("request timed out"), this handler's context (below) and the
		// transfer's "refer canceled" (call.go) race at the deadline.
		headers := maps.Clone(req.Headers)
		go func() {
			tctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := c.transfer(tctx, req.TransferTo, headers, req.PlayDialtone)
			s.mu.Lock()
			p.err = err
			delete(s.pending, req.SipCallId)
			s.mu.Unlock()
			close(p.done)
		}()
	}
	select {
	case <-p.done:
		return &emptypb.Empty{}, p.err
	case <-ctx.Done():
		// As upstream: the psrpc request's own context ended first ("context deadline
		// exceeded"); the transfer goes on until its own deadline.
		return &emptypb.Empty{}, psrpc.NewError(psrpc.Canceled, ctx.Err())
	}
}

// sipStatusError builds a psrpc error that livekit-server turns into a Twirp
// error whose metadata carries sip_status_code and sip_status (livekit-api then
// raises SipCallError).
func sipStatusError(code int, reason, msg string) error {
	st := &livekit.SIPStatus{Code: livekit.SIPStatusCode(code), Status: reason}
	ec := psrpc.ErrorCodeFromGRPC(st.GRPCStatus().Code())
	switch ec {
	case psrpc.OK:
		ec = psrpc.Unknown
	case psrpc.Internal, psrpc.Unavailable:
		ec = psrpc.UpstreamServerError
		if code < 500 || code >= 600 {
			ec = psrpc.UpstreamClientError
		}
	}
	return psrpc.NewError(ec, fmt.Errorf("%s: %w", msg, st), st)
}
