package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// offer is what the stand-in needs from the caller's SDP offer.
type offer struct {
	addr     netip.AddrPort // where to send RTP
	pcmu     bool           // PCMU/8000 (payload type 0) offered
	dtmfType uint8          // telephone-event/8000 payload type, 0 if absent
	ptime    int
}

var errNoCommonCodec = errors.New("no common codec: the stand-in only speaks PCMU/8000")

// parseOffer reads the first audio m-line of an SDP offer.
func parseOffer(body []byte) (*offer, error) {
	if len(body) == 0 {
		return nil, errors.New("INVITE without SDP offer (late offer is not supported)")
	}
	var (
		sessionAddr string
		mediaAddr   string
		port        int
		formats     []string
		inAudio     bool
		seenAudio   bool
		rtpmap      = map[string]string{}
		o           = &offer{ptime: 20}
	)
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		k, v := line[0], line[2:]
		switch k {
		case 'm':
			f := strings.Fields(v)
			inAudio = false
			if len(f) >= 3 && f[0] == "audio" && !seenAudio {
				p, err := strconv.Atoi(strings.Split(f[1], "/")[0])
				if err != nil {
					return nil, fmt.Errorf("bad m= line %q", v)
				}
				port = p
				formats = f[3:]
				inAudio, seenAudio = true, true
			}
		case 'c':
			f := strings.Fields(v)
			if len(f) >= 3 {
				a := strings.Split(f[2], "/")[0]
				if seenAudio && inAudio {
					mediaAddr = a
				} else if !seenAudio {
					sessionAddr = a
				}
			}
		case 'a':
			if !inAudio {
				continue
			}
			if rest, ok := strings.CutPrefix(v, "rtpmap:"); ok {
				pt, enc, _ := strings.Cut(rest, " ")
				rtpmap[pt] = strings.ToLower(strings.TrimSpace(enc))
			} else if rest, ok := strings.CutPrefix(v, "ptime:"); ok {
				if p, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && p > 0 {
					o.ptime = p
				}
			}
		}
	}
	if !seenAudio {
		return nil, errors.New("SDP offer has no audio m= line")
	}
	addrStr := mediaAddr
	if addrStr == "" {
		addrStr = sessionAddr
	}
	ip, err := netip.ParseAddr(addrStr)
	if err != nil {
		return nil, fmt.Errorf("SDP offer: bad connection address %q", addrStr)
	}
	o.addr = netip.AddrPortFrom(ip, uint16(port))
	for _, f := range formats {
		enc := rtpmap[f]
		switch {
		case f == "0" && (enc == "" || strings.HasPrefix(enc, "pcmu/8000")):
			o.pcmu = true
		case strings.HasPrefix(enc, "pcmu/8000"):
			// dynamic payload type for PCMU is unusual; accept only the static one
		case strings.HasPrefix(enc, "telephone-event/8000"):
			if pt, err := strconv.Atoi(f); err == nil && o.dtmfType == 0 {
				o.dtmfType = uint8(pt)
			}
		}
	}
	if !o.pcmu {
		return nil, errNoCommonCodec
	}
	return o, nil
}

// answerSDP builds the SDP answer: PCMU/8000 plus telephone-event when offered.
func answerSDP(ip string, port int, o *offer) []byte {
	sess := rand.Uint64N(1 << 62)
	formats := "0"
	if o.dtmfType != 0 {
		formats += " " + strconv.Itoa(int(o.dtmfType))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\n")
	fmt.Fprintf(&b, "o=LiveKit %d %d IN IP4 %s\r\n", sess, sess, ip)
	fmt.Fprintf(&b, "s=LiveKit\r\n")
	fmt.Fprintf(&b, "c=IN IP4 %s\r\n", ip)
	fmt.Fprintf(&b, "t=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, formats)
	fmt.Fprintf(&b, "a=rtpmap:0 PCMU/8000\r\n")
	if o.dtmfType != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\n", o.dtmfType)
		fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", o.dtmfType)
	}
	fmt.Fprintf(&b, "a=ptime:20\r\n")
	fmt.Fprintf(&b, "a=sendrecv\r\n")
	return []byte(b.String())
}
