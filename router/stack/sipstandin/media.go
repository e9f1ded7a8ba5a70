package main

// RTP towards the SIP caller: PCMU audio both ways, RFC 4733 telephone-event
// in (-> room DTMF) and out (room DTMF -> caller).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/livekit/protocol/logger"
)

// DTMF event codes (RFC 4733): 0-9, * = 10, # = 11, A-D = 12-15.
func dtmfDigit(code uint8) (string, bool) {
	switch {
	case code <= 9:
		return string(rune('0' + code)), true
	case code == 10:
		return "*", true
	case code == 11:
		return "#", true
	case code >= 12 && code <= 15:
		return string(rune('A' + code - 12)), true
	}
	return "", false
}

func dtmfCode(digit string) (uint8, bool) {
	if len(digit) != 1 {
		return 0, false
	}
	d := digit[0]
	switch {
	case d >= '0' && d <= '9':
		return d - '0', true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return 12 + d - 'A', true
	case d >= 'a' && d <= 'd':
		return 12 + d - 'a', true
	}
	return 0, false
}

type dtmfOutEvent struct {
	code    uint8
	startTS uint32
	ticks   int
}

type mediaPort struct {
	log      logger.Logger
	conn     *net.UDPConn
	port     int
	dtmfType uint8

	remoteMu sync.Mutex
	remote   *net.UDPAddr
	latched  bool

	// outbound
	outEnabled atomic.Bool
	muteRoom   atomic.Bool
	ringing    atomic.Bool
	mix        *mixer
	dtmfQueue  chan uint8

	// inbound
	onDTMF  func(code uint8, digit string)
	onAudio func(pcm8k []int16)
	audioIn chan []int16 // read loop -> audio loop; full: the oldest audio is dropped
	// received breaks on the caller's first RTP packet and packets counts them, for
	// waitMedia and the media timeouts (livekit-sip pkg/sip/media_port.go: mediaReceived,
	// packetCount).
	received *fuse
	packets  atomic.Uint64

	closeOnce sync.Once
	closed    chan struct{}
}

func newMediaPort(log logger.Logger, conf *Config, o *offer) (*mediaPort, error) {
	ip := net.ParseIP(conf.ListenIP)
	size := conf.RTPPort.End - conf.RTPPort.Start + 1
	first := rand.IntN(size)
	var conn *net.UDPConn
	var lastErr error
	for i := 0; i < size; i++ {
		p := conf.RTPPort.Start + (first+i)%size
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: p})
		if err == nil {
			conn = c
			break
		}
		lastErr = err
	}
	if conn == nil {
		return nil, fmt.Errorf("no free RTP port in %d-%d: %v", conf.RTPPort.Start, conf.RTPPort.End, lastErr)
	}
	m := &mediaPort{
		log:       log,
		conn:      conn,
		port:      conn.LocalAddr().(*net.UDPAddr).Port,
		dtmfType:  o.dtmfType,
		remote:    net.UDPAddrFromAddrPort(netip.AddrPortFrom(o.addr.Addr().Unmap(), o.addr.Port())),
		mix:       newMixer(),
		dtmfQueue: make(chan uint8, 32),
		audioIn:   make(chan []int16, audioBacklog),
		closed:    make(chan struct{}),
		received:  newFuse(),
	}
	// A busy machine must not make the kernel drop the caller's packets (a key's
	// RFC 4733 packets among them) before we read them.
	if err := conn.SetReadBuffer(rtpReadBuffer); err != nil {
		log.Debugw("cannot enlarge the RTP read buffer", "error", err)
	}
	return m, nil
}

// The read loop only parses packets and acts on keys at once; the caller's audio
// (decoded, resampled and Opus-encoded for the room: the costly part) is handled in
// its own goroutine, so a key never waits behind audio and a slow encoder costs at
// most stale audio, as in a jitter buffer, never a key.
const (
	audioBacklog  = 25      // 0.5 s of 20 ms packets
	rtpReadBuffer = 1 << 20 // bytes; capped by net.core.rmem_max
)

func (m *mediaPort) start() {
	go m.readLoop()
	go m.audioLoop()
	go m.sendLoop()
}

func (m *mediaPort) audioLoop() {
	for {
		select {
		case <-m.closed:
			return
		case pcm := <-m.audioIn: // queued only when onAudio is set
			m.onAudio(pcm)
		}
	}
}

// queueAudio hands one packet's audio to the audio loop, dropping the oldest when it lags.
func (m *mediaPort) queueAudio(pcm []int16) {
	for {
		select {
		case m.audioIn <- pcm:
			return
		default:
		}
		select {
		case <-m.audioIn:
		default:
		}
	}
}

// startTimeout starts the media timeouts (at the answer, as livekit-sip's EnableTimeout) and
// returns a channel closed when they expire. The checks are those of livekit-sip's
// timeoutLoop (pkg/sip/media_port.go): a tick every `timeout`; no packet since the start is
// allowed `initial`; after that, `timeout` without a new packet ends the call. (Upstream
// takes its start time just after resetting the ticker, so a caller that sends nothing is
// dropped 30 or 45 s after the answer, as goroutines happen to run; here always 30 s.)
func (m *mediaPort) startTimeout(initial, timeout time.Duration) <-chan struct{} {
	expired := make(chan struct{})
	start := time.Now()
	startPackets := m.packets.Load()
	go func() {
		ticker := time.NewTicker(timeout)
		defer ticker.Stop()
		var lastPackets uint64
		lastTime := start
		for {
			select {
			case <-m.closed:
				return
			case <-ticker.C:
			}
			if cur := m.packets.Load(); cur != lastPackets {
				lastPackets, lastTime = cur, time.Now()
				continue
			}
			sinceStart := time.Since(start)
			if lastPackets == startPackets && sinceStart < initial {
				continue
			}
			if time.Since(lastTime) < timeout {
				continue
			}
			m.log.Infow("triggering media timeout", "packets", lastPackets,
				"sinceStart", sinceStart, "initial", initial, "timeout", timeout)
			close(expired)
			return
		}
	}()
	return expired
}

func (m *mediaPort) close() {
	m.closeOnce.Do(func() {
		close(m.closed)
		_ = m.conn.Close()
	})
}

func (m *mediaPort) remoteAddr() *net.UDPAddr {
	m.remoteMu.Lock()
	defer m.remoteMu.Unlock()
	return m.remote
}

func (m *mediaPort) readLoop() {
	buf := make([]byte, 1500)
	type dtmfKey struct {
		ts    uint32
		event uint8
	}
	var (
		seen    [16]dtmfKey // recent presses: late retransmissions of an older press are dropped too
		seenN   int
		hasSeen = func(k dtmfKey) bool {
			for i := 0; i < min(seenN, len(seen)); i++ {
				if seen[i] == k {
					return true
				}
			}
			return false
		}
	)
	for {
		n, from, err := m.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				m.log.Warnw("rtp read failed", err)
			}
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		m.packets.Add(1)
		m.received.Break()
		// Symmetric RTP: latch to where the caller really sends from.
		m.remoteMu.Lock()
		if !m.latched {
			if m.remote == nil || !m.remote.IP.Equal(from.IP) || m.remote.Port != from.Port {
				m.log.Debugw("latching RTP destination", "addr", from.String())
				m.remote = from
			}
			m.latched = true
		}
		m.remoteMu.Unlock()

		switch {
		case m.dtmfType != 0 && p.PayloadType == m.dtmfType:
			if len(p.Payload) < 4 {
				continue
			}
			event := p.Payload[0]
			// A key press is recognised by a new RTP timestamp; packets that share
			// the timestamp (continuation, repeats, end-bit retransmissions) are dropped.
			key := dtmfKey{p.Timestamp, event}
			if hasSeen(key) {
				continue
			}
			seen[seenN%len(seen)] = key
			seenN++
			digit, ok := dtmfDigit(event)
			if !ok {
				m.log.Debugw("ignoring unknown telephone-event", "event", event)
				continue
			}
			if m.onDTMF != nil {
				m.onDTMF(event, digit)
			}
		case p.PayloadType == 0:
			if m.onAudio == nil {
				continue
			}
			pcm := make([]int16, len(p.Payload))
			for i, b := range p.Payload {
				pcm[i] = ulawToLinear(b)
			}
			m.queueAudio(pcm)
		}
	}
}

func (m *mediaPort) sendDTMF(digit string) {
	if m.dtmfType == 0 {
		m.log.Infow("caller did not offer telephone-event, dropping DTMF", "digit", digit)
		return
	}
	code, ok := dtmfCode(digit)
	if !ok {
		return
	}
	select {
	case m.dtmfQueue <- code:
	default:
	}
}

func (m *mediaPort) sendLoop() {
	ticker := time.NewTicker(frameDurMs * time.Millisecond)
	defer ticker.Stop()
	var (
		seq    = uint16(rand.UintN(1 << 16))
		ts     = rand.Uint32()
		ssrc   = rand.Uint32()
		first  = true
		tone   ringTone
		frame  = make([]int16, sipFrame)
		packet = make([]byte, 0, 12+sipFrame)
		ev     *dtmfOutEvent
	)
	for {
		select {
		case <-m.closed:
			return
		case <-ticker.C:
		}
		if !m.outEnabled.Load() {
			// keep draining room audio so that it does not pile up
			m.mix.read(frame)
			continue
		}
		raddr := m.remoteAddr()
		if raddr == nil {
			continue
		}
		if ev == nil {
			select {
			case code := <-m.dtmfQueue:
				ev = &dtmfOutEvent{code: code, startTS: ts}
			default:
			}
		}
		hdr := rtp.Header{Version: 2, SequenceNumber: seq, SSRC: ssrc}
		var payload []byte
		if ev != nil {
			ev.ticks++
			const pressTicks, endTicks = 5, 3
			end := ev.ticks > pressTicks
			dur := uint16(min(ev.ticks, pressTicks) * sipFrame)
			flags := byte(10) // volume -10 dBm0
			if end {
				flags |= 0x80
			}
			payload = []byte{ev.code, flags, byte(dur >> 8), byte(dur)}
			hdr.PayloadType = m.dtmfType
			hdr.Timestamp = ev.startTS
			hdr.Marker = ev.ticks == 1
			if ev.ticks >= pressTicks+endTicks {
				ev = nil
			}
			m.mix.read(frame) // drop room audio while the tone plays
		} else {
			switch {
			case m.ringing.Load():
				m.mix.read(frame)
				tone.fill(frame)
			case m.muteRoom.Load():
				m.mix.read(frame)
				clear(frame)
			default:
				m.mix.read(frame)
			}
			payload = packet[:0]
			for _, s := range frame {
				payload = append(payload, linearToULaw(s))
			}
			hdr.PayloadType = 0
			hdr.Timestamp = ts
			hdr.Marker = first
			first = false
		}
		pkt := rtp.Packet{Header: hdr, Payload: payload}
		b, err := pkt.Marshal()
		if err == nil {
			_, _ = m.conn.WriteToUDP(b, raddr)
		}
		seq++
		ts += sipFrame
	}
}
