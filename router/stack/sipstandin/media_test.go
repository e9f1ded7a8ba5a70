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
