package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// ErrDestinationRefused is the generic reason a webhook destination was
// refused; the job log gets only this (the detail would make the log a
// port-scan oracle), the server log gets the address.
var ErrDestinationRefused = errors.New("webhook destination refused: loopback, link-local, private and metadata addresses need notify.webhook.allowHosts")

// HostGuard keeps the server's webhook notifications away from loopback,
// link-local, private and cloud metadata addresses unless
// notify.webhook.allowHosts names them. The check runs on the address
// actually dialled (net.Dialer.Control), so a DNS answer that changes
// between check and connect cannot slip past it.
type HostGuard struct {
	names    map[string]bool
	prefixes []netip.Prefix
}

// NewHostGuard parses allowHosts: host names, IP addresses or CIDR
// prefixes.
func NewHostGuard(allowHosts []string) (*HostGuard, error) {
	g := &HostGuard{names: map[string]bool{}}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case h == "":
			return nil, errors.New("notify.webhook.allowHosts has an empty entry")
		case strings.Contains(h, "/"):
			p, err := netip.ParsePrefix(h)
			if err != nil {
				return nil, fmt.Errorf("notify.webhook.allowHosts %q: %w", h, err)
			}
			g.prefixes = append(g.prefixes, p.Masked())
		default:
			if a, err := netip.ParseAddr(h); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			g.names[h] = true
		}
	}
	return g, nil
}

// internal reports whether an address is one a webhook must not reach by
// default.
func internal(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsPrivate() ||
		a.IsUnspecified() || a.IsMulticast() || a == netip.MustParseAddr("100.100.100.200") || // Alibaba metadata
		netip.MustParsePrefix("100.64.0.0/10").Contains(a) || netip.MustParsePrefix("fd00:ec2::/32").Contains(a)
}

func (g *HostGuard) allowedAddr(a netip.Addr) bool {
	if !internal(a) {
		return true
	}
	for _, p := range g.prefixes {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// control is the dialer's Control: it sees the resolved address.
func (g *HostGuard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ErrDestinationRefused
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !g.allowedAddr(a) {
		return fmt.Errorf("%w (%s)", ErrDestinationRefused, host)
	}
	return nil
}

// Client returns an HTTP client for webhook deliveries: the guard on
// every connection, a short connect timeout (a hanging target must not
// hold a delivery slot), no proxy, no redirects.
func (g *HostGuard) Client(timeout time.Duration) *http.Client {
	guarded := &net.Dialer{Timeout: 5 * time.Second, Control: g.control}
	open := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			if g.names[strings.ToLower(host)] {
				return open.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
	}
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// refusal turns a guard refusal into a permanent failure with the generic
// reason: the outbox drops it instead of retrying forever.
func refusal(err error) error {
	if errors.Is(err, ErrDestinationRefused) {
		return &jobs.PermanentError{Err: ErrDestinationRefused}
	}
	return nil
}
