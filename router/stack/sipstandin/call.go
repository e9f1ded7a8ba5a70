package main

import (
	"context"
	"errors"
	"github.com/twitchtv/twirp"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"gopkg.in/hraban/opus.v2"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/logger"
	"github.com/livekit/protocol/rpc"
	lksip "github.com/livekit/protocol/sip"
	"github.com/livekit/psrpc"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

const (
	attrCallIDFull = livekit.AttrSIPPrefix + "callIDFull"
	attrCallTag    = livekit.AttrSIPPrefix + "callTag"

	statusRinging = "ringing"
	statusActive  = "active"
	statusHangup  = "hangup"

	referByeTimeout = time.Second // as livekit-sip: give the caller 1 s to hang up first

	// audioBridgeMaxDelay: after the answer, `active` waits for the caller's first RTP
	// packet, at most this long (livekit-sip pkg/sip/inbound.go, waitMedia).
	audioBridgeMaxDelay = time.Second
)

type closeReason int

const (
	closeCallerHangup closeReason = iota
	closeCancelled
	closeRoomGone
	closeTransferred
	closeShutdown
	closeRingTimeout
	closeMediaTimeout
	closeError
)

func (r closeReason) String() string {
	return [...]string{"caller-hangup", "cancelled", "room-gone", "transferred", "shutdown",
		"ringing-timeout", "media-timeout", "error"}[r]
}

type fuse struct {
	once sync.Once
	ch   chan struct{}
}

func newFuse() *fuse                   { return &fuse{ch: make(chan struct{})} }
func (f *fuse) Break()                 { f.once.Do(func() { close(f.ch) }) }
func (f *fuse) Watch() <-chan struct{} { return f.ch }
func (f *fuse) IsBroken() bool {
	select {
	case <-f.ch:
		return true
	default:
		return false
	}
}

type referResult struct {
	code   int
	reason string
}

type call struct {
	s     *Service
	log   logger.Logger
	id    string
	info  *rpc.SIPCall
	disp  *rpc.EvaluateSIPDispatchRulesResponse
	offer *offer

	media  *mediaPort
	dialog *sipgo.DialogServerSession
	answer []byte

	room        *lksdk.Room
	roomReady   atomic.Bool
	subscribeOn atomic.Bool
	subscribed  *fuse
	roomGone    *fuse
	answered    atomic.Bool
	closed      *fuse
	closeOnce   sync.Once

	// caller audio -> room track
	track  *webrtc.TrackLocalStaticSample
	encMu  sync.Mutex
	enc    *opus.Encoder
	up     interpolator
	pcm48  []int16
	encBuf []byte

	transferMu  sync.Mutex
	referMu     sync.Mutex
	referCSeq   uint32
	referResult chan referResult
}

func newCall(s *Service, log logger.Logger, id string, info *rpc.SIPCall, disp *rpc.EvaluateSIPDispatchRulesResponse, o *offer) *call {
	return &call{
		s: s, log: log.WithValues("room", disp.RoomName, "participant", disp.ParticipantIdentity),
		id: id, info: info, disp: disp, offer: o,
		subscribed: newFuse(), roomGone: newFuse(), closed: newFuse(),
		encBuf: make([]byte, 4000),
	}
}

// run handles the INVITE transaction until the call is answered or rejected.
func (c *call) run(req *sip.Request, tx sip.ServerTransaction) {
	dialog, err := c.s.dua.ReadInvite(req, tx)
	if err != nil {
		c.log.Warnw("cannot create dialog", err)
		respond(req, tx, 400, err.Error())
		return
	}
	c.dialog = dialog
	c.s.mu.Lock()
	c.s.byDialog[dialog.ID] = c
	c.s.byID[c.id] = c
	c.s.mu.Unlock()

	c.media, err = newMediaPort(c.log, c.s.conf, c.offer)
	if err != nil {
		c.log.Errorw("cannot start media", err)
		c.close(closeError)
		return
	}
	c.media.onDTMF = c.onCallerDTMF
	c.media.onAudio = c.onCallerAudio
	c.media.start()
	c.answer = answerSDP(c.s.conf.NAT1To1IP, c.media.port, c.offer)

	// Ring until answered (livekit-sip re-sends 180 every second).
	_ = dialog.Respond(180, "Ringing", nil)
	stopRing := make(chan struct{})
	var ringWG sync.WaitGroup
	ringWG.Add(1)
	go func() {
		defer ringWG.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopRing:
				return
			case <-t.C:
				_ = dialog.Respond(180, "Ringing", nil)
			}
		}
	}()
	stopRinging := func() {
		select {
		case <-stopRing:
		default:
			close(stopRing)
		}
		ringWG.Wait()
	}
	defer stopRinging()

	if err := c.joinRoom(req); err != nil {
		c.log.Errorw("cannot join room", err)
		stopRinging()
		c.close(closeError)
		return
	}

	timeout := c.disp.RingingTimeout.AsDuration()
	if timeout <= 0 {
		timeout = defaultRingingTimeout
	}
	c.log.Infow("waiting for track subscription", "ringingTimeout", timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.subscribed.Watch():
	case <-dialog.Context().Done():
		c.log.Infow("caller cancelled while ringing")
		stopRinging()
		c.close(closeCancelled)
		return
	case <-c.roomGone.Watch():
		stopRinging()
		c.close(closeRoomGone)
		return
	case <-timer.C:
		c.log.Infow("no track to subscribe to within the ringing timeout")
		stopRinging()
		c.close(closeRingTimeout)
		return
	case <-c.closed.Watch():
		stopRinging()
		return
	}

	stopRinging()
	res := sip.NewSDPResponseFromRequest(dialog.InviteRequest, c.answer)
	for k, v := range c.disp.Headers {
		res.AppendHeader(sip.NewHeader(k, v))
	}
	c.log.Infow("answering the call")
	c.media.outEnabled.Store(true)
	c.answered.Store(true)
	if err := dialog.WriteResponse(res); err != nil {
		c.log.Warnw("answer failed (no ACK?)", err)
		c.close(closeError)
		return
	}
	// As livekit-sip's acceptCall (pkg/sip/inbound.go): the media timeouts start with the
	// answer, then waitMedia holds `active` back until the caller's first RTP packet (or
	// audioBridgeMaxDelay), and only then setStatus(CallActive).
	mediaTimeout := c.media.startTimeout(c.s.conf.MediaTimeoutInitial, c.s.conf.MediaTimeout)
	if !c.waitMedia(mediaTimeout) {
		return
	}
	c.setStatus(statusActive)
	go c.monitor(mediaTimeout)
}

// waitMedia is livekit-sip's (pkg/sip/inbound.go): the first RTP packet from the caller, or
// audioBridgeMaxDelay without one, lets the call become active. A caller who hangs up
// meanwhile (BYE: closed with `hangup`, as upstream's closeWithHangup) never becomes active.
func (c *call) waitMedia(mediaTimeout <-chan struct{}) bool {
	delay := time.NewTimer(audioBridgeMaxDelay)
	defer delay.Stop()
	select {
	case <-c.closed.Watch():
		return false
	case <-c.roomGone.Watch():
		c.close(closeRoomGone)
		return false
	case <-mediaTimeout:
		c.close(closeMediaTimeout)
		return false
	case <-c.media.received.Watch():
		c.log.Infow("first RTP packet from the caller")
	case <-delay.C:
		c.log.Infow("no RTP from the caller yet; bridging audio anyway", "after", audioBridgeMaxDelay)
	}
	return true
}

// monitor waits for the end of an active call as livekit-sip's handleInvite does: the room
// closing ("removed") or the media timeout ("media-timeout", closeWithTimeout).
func (c *call) monitor(mediaTimeout <-chan struct{}) {
	select {
	case <-c.closed.Watch():
	case <-c.roomGone.Watch():
		c.log.Infow("room closed or participant removed")
		c.close(closeRoomGone)
	case <-mediaTimeout:
		c.close(closeMediaTimeout)
	}
}

func (c *call) joinRoom(req *sip.Request) error {
	d := c.disp
	attrs := maps.Clone(d.ParticipantAttributes)
	if attrs == nil {
		attrs = make(map[string]string)
	}
	attrs[livekit.AttrSIPCallID] = c.id
	if c.info.SipCallId != "" {
		attrs[attrCallIDFull] = c.info.SipCallId
	}
	if tag, _ := req.From().Params.Get("tag"); tag != "" {
		attrs[attrCallTag] = tag
	}
	for hdr, attr := range d.HeadersToAttributes {
		if h := req.GetHeader(hdr); h != nil {
			attrs[attr] = h.Value()
		}
	}
	if d.IncludeHeaders != livekit.SIPHeaderOptions_SIP_NO_HEADERS {
		for _, h := range req.Headers() {
			name := strings.ToLower(h.Name())
			if d.IncludeHeaders == livekit.SIPHeaderOptions_SIP_X_HEADERS && !strings.HasPrefix(name, "x-") {
				continue
			}
			attrs[livekit.AttrSIPHeaderPrefix+name] = h.Value()
		}
	}
	attrs[livekit.AttrSIPCallStatus] = statusRinging

	token := d.Token
	if token == "" {
		tokenAttrs := make(map[string]string)
		for _, k := range []string{livekit.AttrSIPCallID, livekit.AttrSIPTrunkID, livekit.AttrSIPDispatchRuleID,
			livekit.AttrSIPTrunkNumber, livekit.AttrSIPPhoneNumber} {
			if v, ok := attrs[k]; ok {
				tokenAttrs[k] = v
			}
		}
		var err error
		token, err = lksip.BuildSIPToken(lksip.SIPTokenParams{
			APIKey:                c.s.conf.ApiKey,
			APISecret:             c.s.conf.ApiSecret,
			RoomName:              d.RoomName,
			ParticipantIdentity:   d.ParticipantIdentity,
			ParticipantName:       d.ParticipantName,
			ParticipantMetadata:   d.ParticipantMetadata,
			ParticipantAttributes: tokenAttrs,
			RoomPreset:            d.RoomPreset,
			RoomConfig:            d.RoomConfig,
		})
		if err != nil {
			return err
		}
	}
	wsURL := d.WsUrl
	if wsURL == "" {
		wsURL = c.s.conf.WsUrl
	}

	if err := c.s.sipRPC.RegisterTransferSIPParticipantTopic(c.id); err != nil {
		return err
	}

	cb := lksdk.NewRoomCallback()
	cb.OnParticipantConnected = func(rp *lksdk.RemoteParticipant) {
		if c.subscribeOn.Load() && rp.Kind() == lksdk.ParticipantSIP {
			// As livekit-sip: two SIP participants would wait for each other forever.
			c.subscribed.Break()
		}
	}
	cb.OnTrackPublished = func(pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if c.subscribeOn.Load() {
			c.subscribeTo(pub, rp)
		}
	}
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if track.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		c.log.Infow("subscribed to audio track", "from", rp.Identity(), "track", pub.SID())
		c.subscribed.Break()
		go c.readRoomTrack(track, pub.SID())
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if d, ok := data.(*livekit.SipDTMF); ok && c.answered.Load() {
			digit := d.Digit
			if digit == "" {
				digit, _ = dtmfDigit(uint8(d.Code))
			}
			c.log.Infow("forwarding DTMF to caller", "digit", digit, "from", params.SenderIdentity)
			c.media.sendDTMF(digit)
		}
	}
	cb.OnDisconnected = func() { c.roomGone.Break() }

	room := lksdk.NewRoom(cb)
	if err := room.JoinWithToken(wsURL, token,
		lksdk.WithAutoSubscribe(false),
		lksdk.WithExtraAttributes(attrs),
	); err != nil {
		return err
	}
	c.room = room
	c.roomReady.Store(true)
	room.LocalParticipant.SetAttributes(attrs)
	c.log.Infow("joined room", "identity", room.LocalParticipant.Identity())

	// Publish the caller's audio (PCMU decoded, resampled to 48 kHz, Opus).
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion")
	if err != nil {
		return err
	}
	enc, err := opus.NewEncoder(roomRate, 1, opus.AppVoIP)
	if err != nil {
		return err
	}
	c.encMu.Lock()
	c.enc = enc
	c.encMu.Unlock()
	if _, err := room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name:   room.LocalParticipant.Identity(),
		Source: livekit.TrackSource_MICROPHONE,
	}); err != nil {
		return err
	}
	c.encMu.Lock()
	c.track = track
	c.encMu.Unlock()

	// Now subscribe to what is (and will be) in the room.
	c.subscribeOn.Store(true)
	for _, rp := range room.GetRemoteParticipants() {
		if rp.Kind() == lksdk.ParticipantSIP {
			c.subscribed.Break()
		}
		for _, pub := range rp.TrackPublications() {
			if rpub, ok := pub.(*lksdk.RemoteTrackPublication); ok {
				c.subscribeTo(rpub, rp)
			}
		}
	}
	return nil
}

func (c *call) subscribeTo(pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	if pub.Kind() != lksdk.TrackKindAudio {
		return
	}
	if err := pub.SetSubscribed(true); err != nil {
		c.log.Warnw("cannot subscribe", err, "track", pub.SID())
	}
}

func (c *call) readRoomTrack(track *webrtc.TrackRemote, id string) {
	defer c.media.mix.remove(id)
	dec, err := opus.NewDecoder(roomRate, 1)
	if err != nil {
		c.log.Errorw("cannot create opus decoder", err)
		return
	}
	pcm := make([]int16, roomRate*120/1000)
	var down decimator
	out := make([]int16, 0, sipFrame*6)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if len(pkt.Payload) == 0 {
			continue
		}
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			continue
		}
		out = down.process(pcm[:n], out[:0])
		c.media.mix.write(id, out)
	}
}

func (c *call) onCallerAudio(pcm8k []int16) {
	c.encMu.Lock()
	defer c.encMu.Unlock()
	if c.track == nil || c.enc == nil {
		return
	}
	c.pcm48 = c.up.process(pcm8k, c.pcm48)
	for len(c.pcm48) >= roomFrame {
		n, err := c.enc.Encode(c.pcm48[:roomFrame], c.encBuf)
		if err == nil {
			_ = c.track.WriteSample(media.Sample{Data: append([]byte(nil), c.encBuf[:n]...), Duration: frameDurMs * time.Millisecond})
		}
		c.pcm48 = append(c.pcm48[:0], c.pcm48[roomFrame:]...)
	}
}

func (c *call) onCallerDTMF(code uint8, digit string) {
	if !c.roomReady.Load() || c.closed.IsBroken() {
		return
	}
	c.log.Infow("DTMF from caller", "digit", digit)
	err := c.room.LocalParticipant.PublishDataPacket(&livekit.SipDTMF{Code: uint32(code), Digit: digit},
		lksdk.WithDataPublishReliable(true))
	if err != nil {
		c.log.Warnw("cannot publish DTMF", err)
	}
}

func (c *call) setStatus(status string) {
	if !c.roomReady.Load() {
		return
	}
	c.room.LocalParticipant.SetAttributes(map[string]string{livekit.AttrSIPCallStatus: status})
}

func (c *call) close(reason closeReason) {
	c.closeOnce.Do(func() {
		c.closed.Break()
		c.log.Infow("closing call", "reason", reason.String())
		if c.dialog != nil {
			if c.answered.Load() {
				if reason != closeCallerHangup {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					if err := c.dialog.Bye(ctx); err != nil {
						c.log.Infow("BYE failed", "error", err)
					}
					cancel()
				}
			} else {
				code, text := 0, ""
				switch reason {
				case closeCancelled:
					// the transaction layer already answered 487
				case closeRingTimeout:
					code, text = 480, "Temporarily Unavailable"
				case closeRoomGone:
					code, text = 480, "Room closed"
				case closeShutdown:
					code, text = 503, "Shutting down"
				default:
					code, text = 500, "Internal Server Error"
				}
				if code != 0 {
					done := make(chan struct{})
					go func() { // waits for the ACK; do not hold up the teardown for long
						defer close(done)
						_ = c.dialog.Respond(code, text, nil)
					}()
					select {
					case <-done:
					case <-time.After(2 * time.Second):
					}
				}
			}
		}
		if c.roomReady.Load() {
			// livekit-sip's close() sets the status of its reason; a media timeout
			// (closeWithTimeout: callDropped) has no attribute, so `sip.callStatus`
			// stays as it was (pkg/sip/inbound.go, types.go CallStatus.Attribute)
			if reason != closeMediaTimeout {
				c.setStatus(statusHangup)
			}
			time.Sleep(200 * time.Millisecond) // let the attribute update go out
			c.room.DisconnectWithReason(livekit.DisconnectReason_CLIENT_INITIATED)
		}
		if c.media != nil {
			c.media.close()
		}
		c.s.sipRPC.DeregisterTransferSIPParticipantTopic(c.id)
		c.s.mu.Lock()
		if c.dialog != nil {
			delete(c.s.byDialog, c.dialog.ID)
		}
		delete(c.s.byID, c.id)
		c.s.mu.Unlock()
		c.log.Infow("call closed")
	})
}

// ---- cold transfer (REFER) ----

func (c *call) transfer(ctx context.Context, to string, headers map[string]string, dialtone bool) error {
	if !c.answered.Load() || c.closed.IsBroken() {
		return psrpc.NewErrorf(psrpc.FailedPrecondition, "can't transfer non established call")
	}
	c.transferMu.Lock()
	defer c.transferMu.Unlock()
	log := c.log.WithValues("transferTo", to)

	if dialtone {
		c.media.ringing.Store(true)
		defer c.media.ringing.Store(false)
	}

	target := c.dialog.InviteRequest.From().Address
	if ct := c.dialog.InviteRequest.Contact(); ct != nil {
		target = ct.Address
	}
	req := sip.NewRequest(sip.REFER, *target.Clone())
	req.AppendHeader(sip.NewHeader("Refer-To", to))
	for k, v := range headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS"))

	results := make(chan referResult, 4)
	c.referMu.Lock()
	c.referCSeq = c.dialog.CSEQ() + 1 // what the dialog will put in the REFER
	c.referResult = results
	c.referMu.Unlock()
	defer func() {
		c.referMu.Lock()
		c.referResult = nil
		c.referMu.Unlock()
	}()

	log.Infow("sending REFER")
	tx, err := c.dialog.TransactionRequest(context.WithoutCancel(ctx), req)
	if err != nil {
		return psrpc.NewError(psrpc.Internal, err)
	}
	defer tx.Terminate()

	// No case below for the call ending: upstream's sipInbound.TransferCall
	// (pkg/sip/inbound.go) waits only for the REFER's answer (sendRefer), then for the
	// NOTIFY's result or the request's context; a caller's BYE meanwhile closes the call
	// and its room (onBye), and the API's answer comes at the deadline.
	// No case for ctx either: upstream's sendRefer (pkg/sip/protocol.go) waits on
	// context.WithoutCancel(ctx), so a REFER still unanswered at the ringing timeout is
	// waited for until its transaction ends (sipResponse, pkg/sip/outbound.go); the
	// API's answer then comes from the handler's context (service.go).
	var final *sip.Response
	provisional := 0
wait:
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				provisional++
				continue
			}
			final = res
			break wait
		case <-tx.Done():
			select {
			case res := <-tx.Responses():
				if !res.IsProvisional() {
					final = res
					break wait
				}
			default:
			}
			if c.s.conf.TransferErrors == transferErrorsV1_0_0 {
				return c.transferFailed(408, "Request Timeout", "SIP REFER got no answer")
			}
			// As upstream's sipResponse: no SIP status, code canceled.
			return psrpc.NewErrorf(psrpc.Canceled,
				"transaction failed to complete (%d intermediate responses)", provisional)
		}
	}
	if final.StatusCode != 200 && final.StatusCode != 202 {
		log.Infow("REFER rejected", "status", final.StatusCode)
		return c.transferFailed(int(final.StatusCode), final.Reason, "SIP REFER failed")
	}
	log.Infow("REFER accepted, waiting for NOTIFY", "status", final.StatusCode)

	select {
	case r := <-results:
		if r.code != 200 {
			log.Infow("transfer failed", "status", r.code, "reason", r.reason)
			return c.transferFailed(r.code, r.reason, "call transfer failed")
		}
	case <-ctx.Done():
		log.Infow("transfer timed out")
		if c.s.conf.TransferErrors == transferErrorsV1_0_0 {
			return c.transferFailed(408, "Request Timeout", "call transfer timed out")
		}
		// As upstream's sipInbound.TransferCall (pkg/sip/inbound.go): the ringing
		// timeout ends the wait for the NOTIFY with no SIP status.
		return psrpc.NewErrorf(psrpc.Canceled, "refer canceled")
	}
	log.Infow("call transferred")
	time.AfterFunc(referByeTimeout, func() { c.close(closeTransferred) })
	return nil
}

// handleNotify reads a NOTIFY for our REFER. It returns the status to answer
// with when the NOTIFY is malformed.
func (c *call) handleNotify(req *sip.Request) (int, string, error) {
	ev := req.GetHeader("Event")
	if ev == nil {
		ev = req.GetHeader("o")
	}
	if ev == nil {
		return 400, "Missing Event header", errors.New("no Event header")
	}
	name, params, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ev.Value())), ";")
	if strings.TrimSpace(name) != "refer" {
		return 489, "Bad Event", errors.New("unknown event " + name)
	}
	var id uint64
	for _, p := range strings.Split(params, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "id="); ok {
			id, _ = strconv.ParseUint(v, 10, 32)
		}
	}
	body := strings.TrimSpace(string(req.Body()))
	line, _, _ := strings.Cut(body, "\n")
	f := strings.SplitN(strings.TrimSpace(line), " ", 3)
	if len(f) < 2 || !strings.EqualFold(f[0], "SIP/2.0") {
		return 400, "Bad sipfrag", errors.New("bad NOTIFY body " + strconv.Quote(body))
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 400, "Bad sipfrag", err
	}
	reason := ""
	if len(f) == 3 {
		reason = strings.TrimSpace(f[2])
	}
	c.log.Infow("NOTIFY for REFER", "status", code, "reason", reason)
	if code < 200 {
		return 200, "OK", nil
	}
	c.referMu.Lock()
	defer c.referMu.Unlock()
	if id != 0 && uint32(id) != c.referCSeq {
		return 200, "OK", nil // NOTIFY for another REFER
	}
	if c.referResult != nil {
		select {
		case c.referResult <- referResult{code: code, reason: reason}:
		default:
		}
	}
	return 200, "OK", nil
}

// transferFailed reports a failed REFER the way the livekit-sip being copied does
// (config standin_transfer_errors): v1.11.0 attaches the SIP status (sipStatusError);
// v1.0.0 reports every failure alike, code canceled, no SIP status, as it was seen
// against livekit-server v1.13.5 (the API answers
// `canceled: twirp error unknown: call transfer failed`, no metadata).
func (c *call) transferFailed(code int, reason, msg string) error {
	if c.s.conf.TransferErrors == transferErrorsV1_0_0 {
		c.log.Infow("transfer failed; reported without SIP status (v1.0.0)", "status", code)
		return psrpc.NewError(psrpc.Canceled, twirp.NewError(twirp.Unknown, "call transfer failed"))
	}
	return sipStatusError(code, reason, msg)
}

const transferErrorsV1_0_0 = "v1.0.0"
