package main

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/livekit/protocol/logger"
)

// A caller's key must reach the room even while the audio path is stuck (a
// saturated machine): keys are read and acted on apart from the audio, which is
// decoded and encoded elsewhere and may lag or be dropped.
func TestKeysDoNotWaitBehindAudio(t *testing.T) {
	conf := &Config{ListenIP: "127.0.0.1", RTPPort: PortRange{Start: 40000, End: 40999}}
	o := &offer{addr: netip.MustParseAddrPort("127.0.0.1:9"), pcmu: true, dtmfType: 101, ptime: 20}
	m, err := newMediaPort(logger.GetLogger(), conf, o)
	if err != nil {
		t.Fatal(err)
	}
	stuck := make(chan struct{})
	defer close(stuck)
	m.onAudio = func([]int16) { <-stuck } // the audio path never comes back
	keys := make(chan string, 4)
	m.onDTMF = func(_ uint8, digit string) { keys <- digit }
	m.start()
	defer m.close()

	peer, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.port})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	send := func(p rtp.Packet) {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := peer.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	seq, ts := uint16(1), uint32(1000)
	for i := 0; i < 200; i++ { // 4 s of audio, far more than the audio backlog holds
		send(rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: make([]byte, 160)})
		seq++
		ts += 160
	}
	// RFC 4733: event 5, then its end packet, same timestamp
	send(rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, Marker: true, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: []byte{5, 10, 0, 160}})
	send(rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq + 1, Timestamp: ts, SSRC: 7}, Payload: []byte{5, 0x80 | 10, 1, 64}})

	select {
	case d := <-keys:
		if d != "5" {
			t.Fatalf("key %q, want 5", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the key did not arrive while the audio path was stuck")
	}
	select {
	case d := <-keys:
		t.Fatalf("one press reported twice (second: %q)", d)
	case <-time.After(100 * time.Millisecond):
	}
}

// The media timeouts and the first-packet signal, as livekit-sip's (pkg/sip/media_port.go):
// a caller that sends nothing is dropped `initial` after the answer; one that sends and
// stops, `timeout` (to two ticks) after its last packet; one that keeps sending, never.
func TestMediaTimeouts(t *testing.T) {
	conf := &Config{ListenIP: "127.0.0.1", RTPPort: PortRange{Start: 41000, End: 41999}}
	o := &offer{addr: netip.MustParseAddrPort("127.0.0.1:9"), pcmu: true, dtmfType: 101, ptime: 20}
	open := func() (*mediaPort, *net.UDPConn) {
		m, err := newMediaPort(logger.GetLogger(), conf, o)
		if err != nil {
			t.Fatal(err)
		}
		m.start()
		peer, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.port})
		if err != nil {
			t.Fatal(err)
		}
		return m, peer
	}
	packet, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7}, Payload: make([]byte, 160)}).Marshal()
	const initial, timeout = 600 * time.Millisecond, 200 * time.Millisecond

	t.Run("silent caller", func(t *testing.T) {
		m, peer := open()
		defer m.close()
		defer peer.Close()
		start := time.Now()
		expired := m.startTimeout(initial, timeout)
		select {
		case <-expired:
		case <-time.After(3 * initial):
			t.Fatal("no media timeout for a caller that sent nothing")
		}
		if d := time.Since(start); d < initial {
			t.Fatalf("dropped after %v, before the initial timeout %v", d, initial)
		}
		if m.received.IsBroken() {
			t.Fatal("received without a packet")
		}
	})
	t.Run("caller that keeps sending", func(t *testing.T) {
		m, peer := open()
		defer m.close()
		defer peer.Close()
		expired := m.startTimeout(initial, timeout)
		stop := time.After(2 * initial)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for sending := true; sending; {
			select {
			case <-expired:
				t.Fatal("media timeout while the caller was sending")
			case <-stop:
				sending = false
			case <-tick.C:
				_, _ = peer.Write(packet)
			}
		}
		if !m.received.IsBroken() {
			t.Fatal("the first packet was not noticed")
		}
		stopped := time.Now()
		select { // then it stops: dropped `timeout` (to two ticks) later
		case <-expired:
		case <-time.After(initial + 3*timeout):
			t.Fatal("no media timeout after the caller stopped sending")
		}
		if d := time.Since(stopped); d < timeout-50*time.Millisecond {
			t.Fatalf("dropped %v after the last packet, before the timeout %v", d, timeout)
		}
	})
}
