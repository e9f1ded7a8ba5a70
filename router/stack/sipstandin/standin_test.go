package main

import (
	"math"
	"strings"
	"testing"
)

func TestULawRoundTrip(t *testing.T) {
	for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32000, -32000} {
		got := ulawToLinear(linearToULaw(s))
		tol := math.Abs(float64(s))/16 + 8
		if math.Abs(float64(got)-float64(s)) > tol {
			t.Errorf("u-law(%d) -> %d", s, got)
		}
	}
	if linearToULaw(0) != 0xFF {
		t.Errorf("u-law silence = %#x, want 0xff", linearToULaw(0))
	}
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestResamplers(t *testing.T) {
	// 440 Hz passes 48k -> 8k with its level; 12 kHz is filtered out.
	tone := func(freq float64, rate, n int) []int16 {
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		}
		return out
	}
	var d decimator
	low := d.process(tone(440, roomRate, 9600), nil)
	if len(low) != 1600 {
		t.Fatalf("decimated %d samples, want 1600", len(low))
	}
	if r := rms(low[200:]); math.Abs(r-7071) > 500 {
		t.Errorf("440 Hz after decimation: rms %.0f, want ~7071", r)
	}
	var d2 decimator
	if r := rms(d2.process(tone(12000, roomRate, 9600), nil)[200:]); r > 300 {
		t.Errorf("12 kHz leaks through decimation: rms %.0f", r)
	}
	var p interpolator
	high := p.process(tone(440, sipRate, 1600), nil)
	if len(high) != 9600 {
		t.Fatalf("interpolated %d samples, want 9600", len(high))
	}
	if r := rms(high[1200:]); math.Abs(r-7071) > 500 {
		t.Errorf("440 Hz after interpolation: rms %.0f, want ~7071", r)
	}
}

func TestDTMFCodes(t *testing.T) {
	for code := uint8(0); code <= 15; code++ {
		d, ok := dtmfDigit(code)
		if !ok {
			t.Fatalf("code %d has no digit", code)
		}
		back, ok := dtmfCode(d)
		if !ok || back != code {
			t.Errorf("digit %q -> %d, want %d", d, back, code)
		}
	}
	if d, _ := dtmfDigit(10); d != "*" {
		t.Errorf("10 -> %q", d)
	}
	if d, _ := dtmfDigit(11); d != "#" {
		t.Errorf("11 -> %q", d)
	}
	if _, ok := dtmfDigit(16); ok {
		t.Error("16 should not be a digit")
	}
}

func TestParseOffer(t *testing.T) {
	sdp := strings.Join([]string{
		"v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 4000 RTP/AVP 8 0 96", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000",
		"a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16", "",
	}, "\r\n")
	o, err := parseOffer([]byte(sdp))
	if err != nil {
		t.Fatal(err)
	}
	if o.addr.String() != "127.0.0.1:4000" || !o.pcmu || o.dtmfType != 96 {
		t.Errorf("got %+v", o)
	}
	ans := string(answerSDP("127.0.0.1", 10002, o))
	for _, want := range []string{"m=audio 10002 RTP/AVP 0 96", "a=rtpmap:0 PCMU/8000", "a=rtpmap:96 telephone-event/8000"} {
		if !strings.Contains(ans, want) {
			t.Errorf("answer lacks %q:\n%s", want, ans)
		}
	}
	_, err = parseOffer([]byte(strings.Replace(sdp, "m=audio 4000 RTP/AVP 8 0 96", "m=audio 4000 RTP/AVP 8", 1)))
	if err != errNoCommonCodec {
		t.Errorf("PCMA only: err %v, want errNoCommonCodec", err)
	}
}
