package monitor

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var rowIDs = regexp.MustCompile(`<a href="/jobs/([a-z0-9._-]+)">`)

func listed(page string) []string {
	var ids []string
	for _, m := range rowIDs.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestMonitor_list(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createJob("j-plain", "Build images", nil)
	f.createJob("j-ops", "Swap disk on node-7", &jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap failed disk", Assignees: []string{"ops"}})
	f.createJob("j-carol", "Rotate certs", &jobs.GateConfig{Kind: jobs.KindApproval, Name: "Approve rotation", Assignees: []string{"carol@example.com"}})
	f.createJob("j-paused", "Migrate DB", nil)
	_, _, err := f.svc.OpenGate(ctx, f.id("ci"), jobs.ViaAPI, "j-paused", jobs.GateConfig{Kind: jobs.KindPause, Name: "Hold for window", Assignees: []string{"alice"}})
	require.NoError(t, err)
	alice := f.signIn("alice")

	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"newest first", "/", []string{"j-paused", "j-carol", "j-ops", "j-plain"}},
		{"by status", "/?status=action_required", []string{"j-ops"}},
		{"waiting on me", "/?mine=1", []string{"j-paused", "j-ops"}},
		{"waiting on me with status", "/?mine=1&status=paused", []string{"j-paused"}},
		{"waiting on me, terminal status", "/?mine=1&status=successful", nil},
		{"name substring", "/?q=DISK", []string{"j-ops"}},
		{"name substring and mine", "/?q=rotate&mine=1", nil},
		{"no match", "/?q=zzz", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := alice.get(tc.query)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, tc.want, listed(page))
		})
	}
	t.Run("amber badge names the gate", func(t *testing.T) {
		_, page := alice.get("/")
		require.Contains(t, page, `<span class="badge b-wait"><span aria-hidden="true">⚑</span> Swap failed disk</span>`)
		require.Contains(t, page, `⚑</span> Approve rotation`)
		require.Contains(t, page, `⚑</span> Hold for window`)
		require.Equal(t, 2, strings.Count(page, "waiting on you"))
	})
	t.Run("exact id redirects", func(t *testing.T) {
		resp, _ := alice.get("/?q=J-OPS")
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/jobs/j-ops", resp.Header.Get("Location"))
	})
	for name, q := range map[string]string{"bad status": "/?status=bogus", "bad cursor": "/?cursor=zz"} {
		t.Run(name, func(t *testing.T) {
			resp, _ := alice.get(q)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		})
	}
}

func TestMonitor_listPaging(t *testing.T) {
	f := newFixture(t)
	for i := range 130 {
		var gate *jobs.GateConfig
		if i%10 == 0 {
			gate = &jobs.GateConfig{Kind: jobs.KindAction, Name: "Check", Assignees: []string{"alice"}}
		}
		f.createJob(fmt.Sprintf("p-%03d", i), fmt.Sprintf("Job %03d", i), gate)
	}
	alice := f.signIn("alice")
	t.Run("plain pages cover every job once, newest first", func(t *testing.T) {
		var all []string
		next := "/"
		for next != "" {
			_, page := alice.get(next)
			all = append(all, listed(page)...)
			next = nextLink(page)
		}
		require.Len(t, all, 130)
		require.Equal(t, "p-129", all[0])
		require.Equal(t, "p-000", all[129])
	})
	t.Run("waiting on me reads the waiting index only", func(t *testing.T) {
		_, page := alice.get("/?mine=1")
		require.Len(t, listed(page), 13)
		require.Empty(t, nextLink(page))
	})
	t.Run("waiting on me pages through the index", func(t *testing.T) {
		defer func(p int) { pageSize = p }(pageSize)
		pageSize = 5
		var all []string
		pages := 0
		for next := "/?mine=1"; next != ""; pages++ {
			_, page := alice.get(next)
			all = append(all, listed(page)...)
			next = nextLink(page)
		}
		require.Equal(t, 3, pages)
		require.Len(t, all, 13)
		require.Equal(t, "p-120", all[0])
		require.Equal(t, "p-000", all[12])
		for _, bad := range []string{"/?mine=1&cursor=0~x", "/?mine=1&cursor=0~-5", "/?mine=1&cursor=3~0"} {
			resp, _ := alice.get(bad)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		}
	})
	t.Run("name search continues past the scan budget", func(t *testing.T) {
		defer func(p, b int) { scanPage, scanBudget = p, b }(scanPage, scanBudget)
		scanPage, scanBudget = 20, 40
		_, page := alice.get("/?q=Job+00")
		require.Empty(t, listed(page))
		require.Contains(t, page, "stopped after 40; more may match further back")
		var found []string
		requests := 1
		for next := nextLink(page); next != ""; next = nextLink(page) {
			_, page = alice.get(next)
			found = append(found, listed(page)...)
			requests++
		}
		require.Equal(t, []string{"p-009", "p-008", "p-007", "p-006", "p-005", "p-004", "p-003", "p-002", "p-001", "p-000"}, found)
		require.Equal(t, 4, requests, "130 jobs, 40 per request")
	})
}

var nextHref = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

func nextLink(page string) string {
	m := nextHref.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}
