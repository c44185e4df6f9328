package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one Socket Mode WebSocket connection.
type conn struct {
	id       int
	ws       *websocket.Conn
	wmu      sync.Mutex
	gone     chan struct{}
	once     sync.Once
	ready    bool // hello sent (guarded by e.mu)
	draining bool // told to refresh: no more deliveries (guarded by e.mu)
	dead     bool // a write failed (guarded by e.mu)
}

// write sends one text frame; gorilla allows one writer at a time.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// kill drops the TCP connection without a close frame, like a dead link.
func (c *conn) kill() {
	c.once.Do(func() { close(c.gone) })
	_ = c.ws.Close()
}

var upgrader = websocket.Upgrader{
	CheckOrigin:     func(*http.Request) bool { return true },
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
}

// appsConnectionsOpen issues a single-use WebSocket URL.
func (e *Emulator) appsConnectionsOpen(*args) (obj, error) {
	ticket := uuid()
	e.tickets[ticket] = true
	host := strings.TrimPrefix(e.base, "http://")
	return obj{"url": fmt.Sprintf("ws://%s/link/?ticket=%s&app_id=%s", host, ticket, e.cfg.AppID)}, nil
}

// serveSocket upgrades a ticketed request, says hello, pings, and reads acks
// until the connection ends.
func (e *Emulator) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	e.mu.Lock()
	valid := e.tickets[ticket] && !e.closed
	delete(e.tickets, ticket)
	e.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := e.register(ws)
	if c == nil {
		_ = ws.Close()
		return
	}
	defer e.unregister(c)
	if err := c.write(e.helloFrame(c)); err != nil {
		return
	}
	e.mu.Lock()
	c.ready = true
	e.notifyLocked()
	e.mu.Unlock()
	e.wake()
	pinging := make(chan struct{})
	go func() {
		defer close(pinging)
		e.pingLoop(c)
	}()
	e.readLoop(c)
	c.kill() // ends pingLoop; the connection is counted until it has
	<-pinging
}

// register adds a connection; nil when the emulator is closing.
func (e *Emulator) register(ws *websocket.Conn) *conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.connSeq++
	c := &conn{id: e.connSeq, ws: ws, gone: make(chan struct{})}
	e.conns[c.id] = c
	e.done.Add(1)
	return c
}

// unregister forgets a finished connection.
func (e *Emulator) unregister(c *conn) {
	c.kill()
	e.mu.Lock()
	delete(e.conns, c.id)
	e.notifyLocked()
	e.mu.Unlock()
	e.done.Done()
	e.log.Debug("connection closed", "conn", c.id)
}

// helloFrame is Slack's first message on a new connection.
func (e *Emulator) helloFrame(c *conn) []byte {
	e.mu.Lock()
	n := len(e.conns)
	e.mu.Unlock()
	b, _ := json.Marshal(obj{
		"type":            "hello",
		"num_connections": n,
		"debug_info": obj{
			"host":                        fmt.Sprintf("applink-emu-%d", c.id),
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": obj{"app_id": e.cfg.AppID},
	})
	return b
}

// pingLoop sends WebSocket pings, which slack-go requires at least every 30 s.
func (e *Emulator) pingLoop(c *conn) {
	t := time.NewTicker(e.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.gone:
			return
		case <-e.stop:
			return
		case now := <-t.C:
			msg := []byte(fmt.Sprintf("ping-%d", now.UnixMilli()))
			if c.ws.WriteControl(websocket.PingMessage, msg, now.Add(5*time.Second)) != nil {
				c.kill()
				return
			}
		}
	}
}

// readLoop reads acks until the connection fails. Client pings are answered
// by gorilla's default ping handler while this loop runs.
func (e *Emulator) readLoop(c *conn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		e.handleAck(c, data)
	}
}

// Connections is the number of live connections that received hello and
// were not told to refresh.
func (e *Emulator) Connections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.liveConnsLocked()
}

// TotalConnections counts every connection ever accepted, so a test can see
// that a client reconnected.
func (e *Emulator) TotalConnections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.connSeq
}

// liveConnsLocked counts connections able to take envelopes.
func (e *Emulator) liveConnsLocked() int {
	n := 0
	for _, c := range e.conns {
		if c.ready && !c.draining && !c.dead {
			n++
		}
	}
	return n
}

// WaitConnections blocks until at least n live connections exist.
func (e *Emulator) WaitConnections(ctx context.Context, n int) error {
	return e.waitFor(ctx, func() bool { return e.liveConnsLocked() >= n })
}

// Disconnect sends every live connection Slack's
// {"type":"disconnect","reason":…} (reason "" means "refresh_requested"),
// stops delivering to them, and closes them after Config.DisconnectGrace
// unless the client closes first. It returns how many were told.
func (e *Emulator) Disconnect(reason string) int {
	if reason == "" {
		reason = "refresh_requested"
	}
	e.mu.Lock()
	var told []*conn
	for _, c := range e.conns {
		if !c.draining {
			c.draining = true
			told = append(told, c)
		}
	}
	e.notifyLocked()
	e.mu.Unlock()
	for _, c := range told {
		b, _ := json.Marshal(obj{"type": "disconnect", "reason": reason,
			"debug_info": obj{"host": fmt.Sprintf("applink-emu-%d", c.id)}})
		_ = c.write(b)
		time.AfterFunc(e.cfg.DisconnectGrace, c.kill)
	}
	return len(told)
}

// KillConnections drops every connection without a close frame, as a
// network failure would. It returns how many were dropped.
func (e *Emulator) KillConnections() int {
	e.mu.Lock()
	var all []*conn
	for _, c := range e.conns {
		all = append(all, c)
	}
	e.mu.Unlock()
	for _, c := range all {
		c.kill()
	}
	return len(all)
}
