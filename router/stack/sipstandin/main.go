// Command sipstandin is a STAND-IN for livekit-sip, written for this project's
// local test stack.
//
// Why it exists: the Go module proxy refuses github.com/livekit/sip (403 for
// every version), so the real livekit-sip cannot be built here. This program
// plays livekit-sip's role on loopback closely enough that a real SIP caller
// can call a real livekit-server: it speaks SIP over UDP (emiago/sipgo), asks
// livekit-server over psrpc/Redis for the trunk and dispatch rule
// (GetSIPTrunkAuthentication, EvaluateSIPDispatchRules), joins the room as a
// participant of kind SIP with the sip.* attributes, answers only once it has
// subscribed to another participant's audio track, bridges audio (PCMU <->
// Opus), turns RFC 4733 telephone-events into SipDTMF data packets, and serves
// TransferSIPParticipant with an in-dialog REFER and its NOTIFYs.
//
// What it does not do (see README.md): outbound calls, TCP/TLS, SRTP, PIN
// dispatch rules, codecs other than PCMU, SIP INFO DTMF (405, as livekit-sip),
// re-INVITE media changes, call state reporting (UpdateSIPCallState), and
// livekit-sip's jitter buffer, PLC, mixer quality and scale.
//
// No code was copied from livekit/sip; the behaviour follows its public sources.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/livekit/protocol/logger"
	"github.com/livekit/protocol/redis"
	"github.com/livekit/psrpc"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sipstandin:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "path to a livekit-sip style YAML config file")
	flag.Parse()

	conf, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	logger.InitFromConfig(&conf.Logging, "sipstandin")
	log := logger.GetLogger()
	lksdk.SetLogger(log.WithComponent("lksdk"))
	log.Infow("starting SIP stand-in (livekit-sip cannot be built here)",
		"wsURL", conf.WsUrl, "redis", conf.Redis.Address,
		"sip", net.JoinHostPort(conf.ListenIP, strconv.Itoa(conf.SIPPort)),
		"rtp", fmt.Sprintf("%d-%d", conf.RTPPort.Start, conf.RTPPort.End))

	rc, err := redis.GetRedisClient(conf.Redis)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := rc.Ping(ctx).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("cannot reach redis at %s: %w", conf.Redis.Address, err)
		}
	}
	bus := psrpc.NewRedisMessageBus(rc)

	svc, err := NewService(conf, log, bus)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := svc.Start(ctx); err != nil {
		return err
	}

	var health *http.Server
	if conf.HealthPort > 0 {
		addr := net.JoinHostPort(conf.ListenIP, strconv.Itoa(conf.HealthPort))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("cannot listen for health checks on %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if !svc.ready.Load() || svc.closing.Load() {
				http.Error(w, "not ready", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("OK"))
		})
		health = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = health.Serve(ln) }()
		log.Infow("health check listening", "addr", "http://"+addr+"/")
	}
	svc.ready.Store(true)
	log.Infow("SIP stand-in ready")

	<-ctx.Done()
	log.Infow("shutting down")
	svc.Stop()
	if health != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = health.Shutdown(sctx)
		cancel()
	}
	_ = rc.Close()
	return nil
}
