package ratelimit

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The outbox posts to 16 channels at once: a second burst of 16 calls
// reuses the first burst's connections instead of opening new ones (with
// http.DefaultTransport, 14 of 16 were new: it keeps 2 idle per host).
func TestNewClient_KeepsConnectionsForABurst(t *testing.T) {
	const burst = 16
	var opened atomic.Int64
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		wait := all
		if arrived++; arrived%burst == 0 {
			close(all)
			all = make(chan struct{})
		}
		mu.Unlock()
		select { // every call of a burst is in flight at once, so each holds a connection
		case <-wait:
		case <-time.After(30 * time.Second):
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(webAPITransport.(*http.Transport).CloseIdleConnections)

	hc := NewClient(nil, nil)
	wave := func() {
		var wg sync.WaitGroup
		for range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := hc.Post(srv.URL+"/api/chat.postMessage", "application/json", nil)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
	}
	wave()
	require.EqualValues(t, burst, opened.Load(), "the first burst opens one connection per call")
	wave()
	require.EqualValues(t, burst, opened.Load(), "the second burst opened %d new connections", opened.Load()-burst)
}
