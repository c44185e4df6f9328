package perf

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// wireClients is a load generator in the manner of wrk: each worker keeps
// one HTTP/1.1 connection open and writes its requests by hand, so the
// load generator's own cost (net/http's transport runs two goroutines per
// connection) does not eat the 2 cores the server is measured on. The
// requests are real HTTP on loopback, answered by the real server.
type wireClients struct {
	addr  string
	token string
	mu    sync.Mutex
	idle  []*wireConn
}

// wireConn is one kept-alive connection.
type wireConn struct {
	c  net.Conn
	br *bufio.Reader
}

func newWireClients(serverURL, token string) *wireClients {
	return &wireClients{addr: strings.TrimPrefix(serverURL, "http://"), token: token}
}

// post sends one POST with a JSON body and returns the status code once
// the whole answer was read.
func (w *wireClients) post(path string, body []byte) (int, error) {
	conn, err := w.get()
	if err != nil {
		return 0, err
	}
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, w.addr, w.token, len(body))
	req = append(req, body...)
	if _, err := conn.c.Write(req); err != nil {
		_ = conn.c.Close()
		return 0, err
	}
	resp, err := http.ReadResponse(conn.br, nil)
	if err != nil {
		_ = conn.c.Close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.Close {
		_ = conn.c.Close()
		return resp.StatusCode, err
	}
	w.put(conn)
	return resp.StatusCode, nil
}

func (w *wireClients) get() (*wireConn, error) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		c := w.idle[n-1]
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		return c, nil
	}
	w.mu.Unlock()
	c, err := net.DialTimeout("tcp", w.addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &wireConn{c: c, br: bufio.NewReader(c)}, nil
}

func (w *wireClients) put(c *wireConn) {
	w.mu.Lock()
	w.idle = append(w.idle, c)
	w.mu.Unlock()
}

// close closes every idle connection.
func (w *wireClients) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.idle {
		_ = c.c.Close()
	}
	w.idle = nil
}

// completeWire is stack.complete through wireClients.
func (s *stack) completeWire(wc *wireClients, ids []string) time.Duration {
	body := []byte(`{"status":"successful","message":"done"}`)
	var failed atomic.Int64
	start := time.Now()
	parallel(clients, len(ids), func(i int) {
		code, err := wc.post("/v1/jobs/"+ids[i]+"/complete", body)
		if err != nil || code != http.StatusOK {
			failed.Add(1)
		}
	})
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		s.b.Fatalf("%d completions failed", failed.Load())
	}
	return elapsed
}
