package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/livekit/protocol/logger"
	"github.com/livekit/protocol/redis"
)

// PortRange is "start-end" (inclusive), as in livekit-sip's rtp_port.
type PortRange struct {
	Start int `yaml:"start"`
	End   int `yaml:"end"`
}

func (r *PortRange) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s := strings.TrimSpace(n.Value)
		a, b, ok := strings.Cut(s, "-")
		if !ok {
			b = a
		}
		start, err1 := strconv.Atoi(strings.TrimSpace(a))
		end, err2 := strconv.Atoi(strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return fmt.Errorf("rtp_port: cannot parse %q (want start-end)", s)
		}
		r.Start, r.End = start, end
		return nil
	}
	type plain PortRange
	return n.Decode((*plain)(r))
}

const (
	defaultMediaTimeout        = 15 * time.Second // livekit-sip pkg/sip/media_port.go
	defaultMediaTimeoutInitial = 30 * time.Second // livekit-sip pkg/sip/media_port.go
)

// Config uses the keys of livekit-sip's config file where they apply.
type Config struct {
	ApiKey    string             `yaml:"api_key"`
	ApiSecret string             `yaml:"api_secret"`
	WsUrl     string             `yaml:"ws_url"`
	Redis     *redis.RedisConfig `yaml:"redis"`

	SIPPort       int       `yaml:"sip_port"`
	ListenIP      string    `yaml:"listen_ip"`
	NAT1To1IP     string    `yaml:"nat_1_to_1_ip"`
	UseExternalIP bool      `yaml:"use_external_ip"`
	RTPPort       PortRange `yaml:"rtp_port"`
	HealthPort    int       `yaml:"health_port"`
	SIPHostname   string    `yaml:"sip_hostname"`

	Logging logger.Config `yaml:"logging"`

	// MediaTimeout and MediaTimeoutInitial, as livekit-sip's (same keys, pkg/config/config.go;
	// defaults from pkg/sip/media_port.go, NewMediaPortWith): an answered call is hung up when
	// no RTP came for MediaTimeoutInitial after the answer, or for MediaTimeout after the
	// caller's last packet. Zero or less means the default, as there.
	MediaTimeout        time.Duration `yaml:"media_timeout"`
	MediaTimeoutInitial time.Duration `yaml:"media_timeout_initial"`

	// TransferErrors (stand-in only) chooses how a failed transfer is reported:
	// "" as livekit-sip v1.11.0 (a psrpc error carrying the SIP status), or
	// "v1.0.0" as livekit-sip v1.0.0 (no SIP status at all; see README.md).
	TransferErrors string `yaml:"standin_transfer_errors"`

	// Accepted for compatibility with livekit-sip config files; not used.
	Other map[string]any `yaml:",inline"`
}

func loadConfig(path string) (*Config, error) {
	var data []byte
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		data = b
	case os.Getenv("SIP_CONFIG_BODY") != "":
		data = []byte(os.Getenv("SIP_CONFIG_BODY"))
	case os.Getenv("SIP_CONFIG_FILE") != "":
		b, err := os.ReadFile(os.Getenv("SIP_CONFIG_FILE"))
		if err != nil {
			return nil, err
		}
		data = b
	default:
		return nil, errors.New("no config: pass --config FILE or set SIP_CONFIG_FILE / SIP_CONFIG_BODY")
	}
	conf := &Config{}
	if err := yaml.Unmarshal(data, conf); err != nil {
		return nil, fmt.Errorf("cannot parse config: %w", err)
	}
	if err := conf.init(); err != nil {
		return nil, err
	}
	return conf, nil
}

func (c *Config) init() error {
	if c.ApiKey == "" || c.ApiSecret == "" {
		return errors.New("config: api_key and api_secret are required")
	}
	if c.WsUrl == "" {
		c.WsUrl = "ws://127.0.0.1:7880"
	}
	if c.Redis == nil || !c.Redis.IsConfigured() {
		return errors.New("config: a redis block (redis.address) is required, as for livekit-sip")
	}
	if c.SIPPort == 0 {
		c.SIPPort = 5060
	}
	if c.ListenIP == "" {
		c.ListenIP = "127.0.0.1"
	}
	if _, err := netip.ParseAddr(c.ListenIP); err != nil {
		return fmt.Errorf("config: listen_ip: %w", err)
	}
	if c.NAT1To1IP == "" {
		c.NAT1To1IP = c.ListenIP
		if c.NAT1To1IP == "0.0.0.0" {
			c.NAT1To1IP = "127.0.0.1"
		}
	}
	if c.UseExternalIP {
		return errors.New("config: use_external_ip is not supported by the stand-in (loopback only)")
	}
	if c.TransferErrors != "" && c.TransferErrors != transferErrorsV1_0_0 {
		return fmt.Errorf("config: standin_transfer_errors must be empty or %q, not %q", transferErrorsV1_0_0, c.TransferErrors)
	}
	if c.RTPPort.Start == 0 {
		c.RTPPort = PortRange{Start: 10000, End: 20000}
	}
	if c.RTPPort.End < c.RTPPort.Start {
		return fmt.Errorf("config: rtp_port: end %d < start %d", c.RTPPort.End, c.RTPPort.Start)
	}
	if c.MediaTimeout <= 0 {
		c.MediaTimeout = defaultMediaTimeout
	}
	if c.MediaTimeoutInitial <= 0 {
		c.MediaTimeoutInitial = defaultMediaTimeoutInitial
	}
	if c.Logging.Level == "" {
		c.Logging.Level = "info"
	}
	return nil
}
