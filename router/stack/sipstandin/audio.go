package main

// Audio helpers: G.711 u-law, 48 kHz <-> 8 kHz resampling, a ring tone, and a
// small mixer of room tracks for the audio sent to the caller.

import (
	"math"
	"sync"
)

const (
	roomRate    = 48000
	sipRate     = 8000
	resampleFac = roomRate / sipRate // 6
	frameDurMs  = 20
	sipFrame    = sipRate * frameDurMs / 1000  // 160 samples
	roomFrame   = roomRate * frameDurMs / 1000 // 960 samples
)

// ---- G.711 u-law ----

const ulawBias = 0x84
const ulawClip = 32635

func linearToULaw(s int16) byte {
	sample := int(s)
	sign := 0
	if sample < 0 {
		sample = -sample
		sign = 0x80
	}
	if sample > ulawClip {
		sample = ulawClip
	}
	sample += ulawBias
	exponent := 7
	for mask := 0x4000; sample&mask == 0 && exponent > 0; mask >>= 1 {
		exponent--
	}
	mantissa := (sample >> (exponent + 3)) & 0x0F
	return ^byte(sign | (exponent << 4) | mantissa)
}

func ulawToLinear(u byte) int16 {
	u = ^u
	sign := u & 0x80
	exponent := int(u>>4) & 0x07
	mantissa := int(u & 0x0F)
	sample := ((mantissa << 3) + ulawBias) << exponent
	sample -= ulawBias
	if sign != 0 {
		return int16(-sample)
	}
	return int16(sample)
}

// ---- resampling (windowed-sinc FIR, factor 6) ----

var lowpass = makeLowpass(61, 3600.0/roomRate)

func makeLowpass(n int, fc float64) []float32 {
	h := make([]float32, n)
	m := float64(n - 1)
	var sum float64
	tmp := make([]float64, n)
	for i := 0; i < n; i++ {
		x := float64(i) - m/2
		var v float64
		if x == 0 {
			v = 2 * fc
		} else {
			v = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		w := 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/m) // Hamming
		tmp[i] = v * w
		sum += tmp[i]
	}
	for i := range tmp {
		h[i] = float32(tmp[i] / sum) // unity DC gain
	}
	return h
}

func clip16(v float32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// decimator converts 48 kHz to 8 kHz.
type decimator struct {
	hist  []float32 // last len(lowpass)-1 input samples
	phase int
}

func (d *decimator) process(in []int16, out []int16) []int16 {
	n := len(lowpass)
	if d.hist == nil {
		d.hist = make([]float32, n-1)
	}
	buf := make([]float32, 0, len(d.hist)+len(in))
	buf = append(buf, d.hist...)
	for _, s := range in {
		buf = append(buf, float32(s))
	}
	// buf[k] holds input sample k-(n-1) relative to in[0]
	for i := range in {
		if d.phase == 0 {
			var acc float32
			base := i // window buf[i : i+n] ends at in[i]
			for j := 0; j < n; j++ {
				acc += lowpass[j] * buf[base+n-1-j]
			}
			out = append(out, clip16(acc))
		}
		d.phase = (d.phase + 1) % resampleFac
	}
	copy(d.hist, buf[len(buf)-(n-1):])
	return out
}

// interpolator converts 8 kHz to 48 kHz.
type interpolator struct {
	hist []float32 // recent input samples, newest last
}

func (p *interpolator) process(in []int16, out []int16) []int16 {
	n := len(lowpass)
	taps := (n + resampleFac - 1) / resampleFac
	if p.hist == nil {
		p.hist = make([]float32, taps)
	}
	for _, s := range in {
		copy(p.hist, p.hist[1:])
		p.hist[len(p.hist)-1] = float32(s)
		for ph := 0; ph < resampleFac; ph++ {
			var acc float32
			for j := 0; j < taps; j++ {
				k := ph + resampleFac*j
				if k >= n {
					break
				}
				acc += lowpass[k] * p.hist[len(p.hist)-1-j]
			}
			out = append(out, clip16(acc*resampleFac))
		}
	}
	return out
}

// ---- ring tone (ETSI: 425 Hz, 1 s on, 4 s off), as livekit-sip plays for play_dialtone ----

type ringTone struct {
	pos int
}

func (t *ringTone) fill(out []int16) {
	const period = 5 * sipRate
	const on = 1 * sipRate
	const amp = 32767.0 / 4
	for i := range out {
		p := t.pos % period
		if p < on {
			out[i] = int16(amp * math.Sin(2*math.Pi*425*float64(p)/sipRate))
		} else {
			out[i] = 0
		}
		t.pos++
	}
}

// ---- mixer of room tracks, 8 kHz ----

const maxBuffered = sipRate * 300 / 1000 // keep at most 300 ms per track

type mixer struct {
	mu     sync.Mutex
	inputs map[string][]int16
}

func newMixer() *mixer { return &mixer{inputs: make(map[string][]int16)} }

func (m *mixer) write(id string, pcm []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := append(m.inputs[id], pcm...)
	if len(b) > maxBuffered {
		b = b[len(b)-maxBuffered:]
	}
	m.inputs[id] = b
}

func (m *mixer) remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inputs, id)
}

// read mixes one frame of every input into out (len(out) samples).
func (m *mixer) read(out []int16) {
	acc := make([]int32, len(out))
	m.mu.Lock()
	for id, b := range m.inputs {
		n := min(len(b), len(out))
		for i := 0; i < n; i++ {
			acc[i] += int32(b[i])
		}
		m.inputs[id] = b[n:]
	}
	m.mu.Unlock()
	for i, v := range acc {
		if v > 32767 {
			v = 32767
		} else if v < -32768 {
			v = -32768
		}
		out[i] = int16(v)
	}
}
