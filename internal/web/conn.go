package web

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection limit defaults: a header or a body that stalls is cut off
// well within SPEC §9's 60 s, and one client cannot hold every descriptor.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultMaxConnsPerClient = 128
	DefaultSendTimeout       = 30 * time.Second
)

// bodyDeadline gives a request body BodyTimeout to arrive. The deadline is
// lifted once the body has been read (or was empty), so a long-poll or a
// log stream, which only writes, is never cut by it.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)); err == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}

// clientLimitListener refuses a connection from a client (an IP address)
// that already has max open, and logs accept errors at warn.
type clientLimitListener struct {
	net.Listener
	max int
	log *slog.Logger

	mu    sync.Mutex
	conns map[string]int
}

func newClientLimitListener(ln net.Listener, max int, log *slog.Logger) *clientLimitListener {
	return &clientLimitListener{Listener: ln, max: max, log: log, conns: map[string]int{}}
}

// Accept implements net.Listener.
func (l *clientLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.log.Warn("accept failed", "err", err)
			}
			return nil, err
		}
		host := clientOf(c)
		l.mu.Lock()
		full := l.conns[host] >= l.max
		if !full {
			l.conns[host]++
		}
		l.mu.Unlock()
		if full {
			l.log.Warn("connection refused: too many from one client", "client", host, "max", l.max)
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *clientLimitListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[host]--; l.conns[host] <= 0 {
		delete(l.conns, host)
	}
}

func clientOf(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// countedConn gives its slot back once, on Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
