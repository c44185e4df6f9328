package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// This file holds the README's receiver example, byte for byte, and uses it
// as the independent verifier of cla's webhook signatures: it touches
// nothing of package notify.

// README example start

// VerifyClaWebhook checks a cla webhook request and returns its body.
// secret is the webhook secret shared with cla; maxAge bounds how old
// (or how far in the future) the timestamp may be, against replays.
func VerifyClaWebhook(r *http.Request, secret []byte, maxAge time.Duration) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return nil, err
	}
	ts := r.Header.Get("X-Cla-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, errors.New("missing or malformed X-Cla-Timestamp")
	}
	if age := time.Since(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
		return nil, errors.New("webhook timestamp too old or in the future")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Cla-Signature"))) {
		return nil, errors.New("webhook signature mismatch")
	}
	return body, nil
}

// README example end

func TestREADME_ReceiverExampleIsTested(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```go\n(// VerifyClaWebhook.*?)```").FindSubmatch(readme)
	require.NotNil(t, m, "README.md has a Go example")
	self, err := os.ReadFile("receiver_example_test.go")
	require.NoError(t, err)
	start := strings.Index(string(self), "// README example start\n\n")
	end := strings.Index(string(self), "// README example end")
	require.True(t, start > 0 && end > start)
	tested := string(self)[start+len("// README example start\n\n") : end]
	require.Equal(t, strings.TrimSpace(tested), strings.TrimSpace(string(m[1])),
		"the README's receiver example must be the code this test file runs")
}
