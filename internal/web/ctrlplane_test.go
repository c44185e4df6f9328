package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// The ctrlplane RFC's own JSON, kept verbatim in examples/ctrlplane, sent
// as it stands: the agent config as jobAgentConfig with a dispatch context,
// then the RFC's completion request.

const tokJane = "jane-token"

func rfcText(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "ctrlplane", name))
	require.NoError(t, err)
	return string(data)
}

// ctrlplaneFixture adds jane, of the RFC's ops-team and compliance-team.
func ctrlplaneFixture(t *testing.T) *fixture {
	return newFixture(t, func(c *web.Config) {
		creds := append(testIdentities(), web.Credential{Digest: web.HashToken(tokJane),
			Identity: jobs.Identity{Name: "jane", Groups: []string{"ops-team", "compliance-team"}}})
		c.Keyring = web.NewKeyring(creds)
	})
}

// dispatch is POST /v1/jobs with the RFC config and a context, as text.
func dispatch(id, config, context string) string {
	return `{"id": "` + id + `", "jobAgentConfig": ` + config + `, "context": ` + context + `}`
}

func TestCtrlplane_DispatchAndComplete(t *testing.T) {
	f := ctrlplaneFixture(t)
	r := f.call("POST", "/v1/jobs", tokCI, dispatch("disk-1", rfcText(t, "disk-swap.json"), rfcText(t, "context.disk-swap.json")))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	j := f.job("disk-1")
	require.Equal(t, jobs.StatusActionRequired, j.Status, "the manual action opens at once")
	require.Equal(t, "Swap failed disk", j.Name, "the job's name defaults to the config's")
	g := j.Gates[0]
	require.Equal(t, jobs.KindAction, g.Kind, "manual-action is kind action")
	require.Equal(t, "manual-action", g.Type)
	require.True(t, g.CompletesJob)
	require.Equal(t, "Replace the failed disk in us-east-1-node-7 before deployment proceeds.", g.Description)
	require.Equal(t, []jobs.NotifyChannel{{Type: "slack", ChannelID: "C04XXXXXX"}}, g.Channels)
	require.NotNil(t, g.Deadline)
	require.Equal(t, map[string]string{
		"manual-action/name":             "Swap failed disk",
		"manual-action/description":      "Replace the failed disk in us-east-1-node-7 before deployment proceeds.",
		"manual-action/require-evidence": "true",
	}, j.Metadata)
	require.Equal(t, j.Metadata["manual-action/name"], r.json()["metadata"].(map[string]any)["manual-action/name"], "the API shows metadata")

	// Evidence is required: {} is a 400 that changes nothing.
	r = f.call("POST", "/v1/jobs/disk-1/complete", tokJane, `{}`)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Contains(t, r.json()["error"], "requires evidence")
	require.Equal(t, j.Version, f.job("disk-1").Version)

	r = f.call("POST", "/v1/jobs/disk-1/complete", tokJane, rfcText(t, "completion.json"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "disk-1", r.json()["jobId"])
	require.Equal(t, "successful", r.json()["status"])
	j = f.job("disk-1")
	require.Equal(t, jobs.StatusSuccessful, j.Status, "the action's outcome ends the job")
	require.Equal(t, "Disk replaced and RAID rebuild verified.", j.Message)
	require.Equal(t, "jane", j.Metadata["manual-action/completed-by"])
	require.Equal(t, "api", j.Metadata["manual-action/completed-via"])
	require.Equal(t, "https://runbook.internal/disk-swap/RUN-4521", j.Metadata["manual-action/evidence"])
	at, err := time.Parse(time.RFC3339, j.Metadata["manual-action/completed-at"])
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), at, time.Minute)

	r = f.call("POST", "/v1/jobs/disk-1/complete", tokJane, rfcText(t, "completion.json"))
	require.Equal(t, http.StatusConflict, r.status)
	require.True(t, strings.HasPrefix(r.json()["error"].(string), "job is in successful status, expected action_required"), "%s", r.body)
	require.Contains(t, r.json()["error"], "already resolved (successful) by jane via api")
	require.Equal(t, j.Version, f.job("disk-1").Version)
}

// status is optional (default successful) and the message says who did it.
func TestCtrlplane_CompleteDefaults(t *testing.T) {
	f := ctrlplaneFixture(t)
	cfg := strings.Replace(rfcText(t, "disk-swap.json"), `"requireEvidence": true`, `"requireEvidence": false`, 1)
	for _, id := range []string{"d-1", "d-2"} {
		r := f.call("POST", "/v1/jobs", tokCI, dispatch(id, cfg, rfcText(t, "context.disk-swap.json")))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	}
	r := f.call("POST", "/v1/jobs/d-1/complete", tokJane, `{}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "successful", r.json()["status"])
	require.Equal(t, "Completed by jane via API", f.job("d-1").Message)
	require.NotContains(t, f.job("d-1").Metadata, "manual-action/require-evidence")

	r = f.call("POST", "/v1/jobs/d-2/complete", tokJane, `{"status": "failure"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "failure", r.json()["status"])
	require.Equal(t, jobs.StatusFailure, f.job("d-2").Status)
	require.Equal(t, "Reported as failed by jane via API", f.job("d-2").Message)

	r = f.call("POST", "/v1/jobs/d-2/complete", tokJane, `{"status": "done"}`)
	require.Equal(t, http.StatusBadRequest, r.status)
}

// The RFC's customer-notification channels: email addressed by channelId.
func TestCtrlplane_EmailChannelID(t *testing.T) {
	f := ctrlplaneFixture(t)
	cfg := `{"type": "manual-action", "name": "Notify customer for {[.environment.name]}", "description": "…",
		"channels": [{"type": "slack", "channelId": "C04ACCOUNTS"}, {"type": "email", "channelId": "account-team@example.com"}]}`
	r := f.call("POST", "/v1/jobs", tokCI, dispatch("cn-1", cfg, `{"environment": {"name": "acme-prod"}}`))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.Equal(t, "Notify customer for acme-prod", f.job("cn-1").Name, "the rendered name")
	pending, _, err := f.db.Outbox(context.Background(), time.Now().Add(time.Hour), 100)
	require.NoError(t, err)
	var got []string
	for _, n := range pending {
		got = append(got, string(n.Channel.Type)+":"+n.Channel.Target())
	}
	require.ElementsMatch(t, []string{"slack:C04ACCOUNTS", "email:account-team@example.com"}, got)
}

// POST /v1/jobs/{id}/gates takes the same RFC config.
func TestCtrlplane_GateWithAgentConfig(t *testing.T) {
	f := ctrlplaneFixture(t)
	r := f.call("POST", "/v1/jobs", tokCI, `{"id": "g-1", "name": "Rollout", "context": `+rfcText(t, "context.disk-swap.json")+`}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	r = f.call("POST", "/v1/jobs/g-1/gates", tokCI, rfcText(t, "disk-swap.json"))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	require.Equal(t, "action", r.json()["kind"])
	require.Equal(t, jobs.StatusActionRequired, f.job("g-1").Status)
	require.Equal(t, "Swap failed disk", f.job("g-1").Metadata["manual-action/name"])
}

// Bad input is a clear 400 that creates or changes nothing.
func TestCtrlplane_BadInput(t *testing.T) {
	f := ctrlplaneFixture(t)
	r := f.call("POST", "/v1/jobs", tokCI, `{"id": "keep", "name": "Rollout", "context": {"resource": {"name": "n"}}}`)
	require.Equal(t, http.StatusCreated, r.status)
	disk := rfcText(t, "disk-swap.json")
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"unknown type", "/v1/jobs", dispatch("bad-1", strings.Replace(disk, "manual-action", "argo-cd", 1), `{}`),
			`unknown type "argo-cd": cla accepts manual-action, action, approval, pause or trap`},
		{"missing key in description", "/v1/jobs", dispatch("bad-2", disk, `{"environment": {"name": "production"}}`),
			`description template: missing key "resource" in {[.resource.name]}`},
		{"missing key in name", "/v1/jobs", dispatch("bad-3", `{"type": "manual-action", "name": "Verify {[.resource.name]}"}`, `{"resource": {}}`),
			`name template: missing key "name" in {[.resource.name]}`},
		{"gate and jobAgentConfig", "/v1/jobs", `{"id": "bad-4", "gate": {"kind": "action", "name": "x"}, "jobAgentConfig": ` + disk + `}`,
			"give gate or jobAgentConfig, not both"},
		{"no name at all", "/v1/jobs", `{"id": "bad-5"}`, "job name is required"},
		{"unknown type on a gate", "/v1/jobs/keep/gates", strings.Replace(disk, "manual-action", "terraform", 1), `unknown type "terraform"`},
		{"missing key on a gate", "/v1/jobs/keep/gates", `{"type": "manual-action", "name": "x", "description": "{[.release.version.tag]}"}`,
			`missing key "release"`},
		{"email without address", "/v1/jobs", dispatch("bad-6", `{"type": "manual-action", "name": "x", "channels": [{"type": "email"}]}`, `{}`),
			"channels[0] (email) needs channelId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.job("keep").Version
			r := f.call("POST", tc.path, tokCI, tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			require.Contains(t, r.json()["error"], tc.want)
			require.Equal(t, before, f.job("keep").Version)
			for _, id := range []string{"bad-1", "bad-2", "bad-3", "bad-4", "bad-5", "bad-6"} {
				require.Equal(t, http.StatusNotFound, f.call("GET", "/v1/jobs/"+id, tokCI, nil).status, id)
			}
		})
	}
}

// Deployment freezes (the RFC's open question 8): admins only; a matching
// dispatch is refused with 409 frozen; completion only with blockCompletion.
func TestFreezes(t *testing.T) {
	f := ctrlplaneFixture(t)
	until := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Second)
	disk := rfcText(t, "disk-swap.json")
	noEvidence := strings.Replace(disk, `"requireEvidence": true`, `"requireEvidence": false`, 1)
	ctxProd := rfcText(t, "context.disk-swap.json")

	// A job in flight before the freeze.
	r := f.call("POST", "/v1/jobs", tokCI, dispatch("inflight", noEvidence, ctxProd))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)

	for _, tc := range []struct {
		name, token, body string
		status            int
		want              string
	}{
		{"not an admin", tokCI, `{"reason": "x", "until": "` + until.Format(time.RFC3339) + `"}`, 403, "only admins"},
		{"no reason", tokAdmin, `{"until": "` + until.Format(time.RFC3339) + `"}`, 400, "needs a reason"},
		{"no until", tokAdmin, `{"reason": "x"}`, 400, "needs until"},
		{"until not a time", tokAdmin, `{"reason": "x", "until": "tomorrow"}`, 400, "not valid JSON"},
		{"until passed", tokAdmin, `{"reason": "x", "until": "2020-01-01T00:00:00Z"}`, 400, "already passed"},
		{"from after until", tokAdmin, `{"reason": "x", "from": "` + until.Add(time.Hour).Format(time.RFC3339) + `", "until": "` + until.Format(time.RFC3339) + `"}`, 400, "from must be before until"},
		{"blank environment", tokAdmin, `{"reason": "x", "until": "` + until.Format(time.RFC3339) + `", "environments": [""]}`, 400, "must not be blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.call("POST", "/v1/freezes", tc.token, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Contains(t, r.json()["error"], tc.want)
			fs, err := f.svc.Freezes(context.Background())
			require.NoError(t, err)
			require.Empty(t, fs, "a refused freeze stores nothing")
		})
	}
	require.Equal(t, http.StatusNotFound, f.call("DELETE", "/v1/freezes/fz-nope", tokAdmin, nil).status)
	require.Equal(t, http.StatusForbidden, f.call("GET", "/v1/freezes", tokCI, nil).status)

	r = f.call("POST", "/v1/freezes", tokAdmin, `{"reason": "quarter-end change freeze", "until": "`+until.Format(time.RFC3339)+`",
		"environments": ["production"]}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	prodFreeze := r.json()["id"].(string)
	require.True(t, strings.HasPrefix(prodFreeze, "fz-"))
	require.Equal(t, false, r.json()["blockCompletion"])

	r = f.call("POST", "/v1/jobs", tokCI, dispatch("frozen-1", disk, ctxProd))
	require.Equal(t, http.StatusConflict, r.status, "%s", r.body)
	require.Equal(t, "frozen", r.code())
	require.Contains(t, r.json()["error"], "quarter-end change freeze")
	require.Contains(t, r.json()["error"], until.Format(time.RFC3339))
	require.Equal(t, http.StatusNotFound, f.call("GET", "/v1/jobs/frozen-1", tokCI, nil).status, "nothing created")

	r = f.call("POST", "/v1/jobs", tokCI, dispatch("staging-1", disk, `{"environment": {"name": "staging"}, "resource": {"name": "n"}}`))
	require.Equal(t, http.StatusCreated, r.status, "another environment is not frozen: %s", r.body)

	// The RFC's safe default: the job in flight may still complete.
	r = f.call("POST", "/v1/jobs/inflight/complete", tokJane, `{}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	// blockCompletion: completion is refused from every door, naming the freeze.
	r = f.call("POST", "/v1/freezes", tokAdmin, `{"reason": "incident 42", "until": "`+until.Format(time.RFC3339)+`",
		"deployments": ["infra-rollout"], "blockCompletion": true}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	blocking := r.json()["id"].(string)
	before := f.job("staging-1").Version
	r = f.call("POST", "/v1/jobs/staging-1/complete", tokJane, rfcText(t, "completion.json"))
	require.Equal(t, http.StatusOK, r.status, "staging-1 has no deployment slug: not covered: %s", r.body)
	r = f.call("POST", "/v1/jobs", tokCI, dispatch("frozen-2", disk, `{"deployment": {"slug": "other"}, "environment": {"name": "dev"}, "resource": {"name": "n"}}`))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	_, err := f.svc.GetJob(context.Background(), "frozen-2")
	require.NoError(t, err)
	r = f.call("POST", "/v1/jobs", tokCI, dispatch("frozen-3", disk, `{"deployment": {"slug": "infra-rollout"}, "environment": {"name": "dev"}, "resource": {"name": "n"}}`))
	require.Equal(t, http.StatusConflict, r.status)
	_ = before

	r = f.call("GET", "/v1/freezes", tokAdmin, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, r.json()["freezes"], 2)

	r = f.call("DELETE", "/v1/freezes/"+prodFreeze, tokCI, nil)
	require.Equal(t, http.StatusForbidden, r.status)
	r = f.call("DELETE", "/v1/freezes/"+prodFreeze, tokAdmin, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	r = f.call("POST", "/v1/jobs", tokCI, dispatch("thawed", disk, ctxProd))
	require.Equal(t, http.StatusConflict, r.status, "infra-rollout is still frozen by the second freeze")
	r = f.call("DELETE", "/v1/freezes/"+blocking, tokAdmin, nil)
	require.Equal(t, http.StatusOK, r.status)
	r = f.call("POST", "/v1/jobs", tokCI, dispatch("thawed", disk, ctxProd))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
}

// blockCompletion refuses completing and failing a matching job's manual
// action with 409 frozen, and changes nothing.
func TestFreezes_BlockCompletion(t *testing.T) {
	f := ctrlplaneFixture(t)
	r := f.call("POST", "/v1/jobs", tokCI, dispatch("disk-9", rfcText(t, "disk-swap.json"), rfcText(t, "context.disk-swap.json")))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r = f.call("POST", "/v1/freezes", tokAdmin, `{"reason": "incident 42", "until": "`+until+`", "blockCompletion": true}`)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	id := r.json()["id"].(string)
	before := f.job("disk-9").Version
	for _, body := range []string{rfcText(t, "completion.json"), `{"status": "failure", "evidence": "x"}`} {
		r = f.call("POST", "/v1/jobs/disk-9/complete", tokJane, body)
		require.Equal(t, http.StatusConflict, r.status, "%s", r.body)
		require.Equal(t, "frozen", r.code())
		require.Contains(t, r.json()["error"], "completion is blocked by deployment freeze "+id)
		require.Contains(t, r.json()["error"], "incident 42")
	}
	require.Equal(t, before, f.job("disk-9").Version)
	require.Equal(t, http.StatusOK, f.call("DELETE", "/v1/freezes/"+id, tokAdmin, nil).status)
	r = f.call("POST", "/v1/jobs/disk-9/complete", tokJane, rfcText(t, "completion.json"))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// The README's "Coming from ctrlplane" shows the RFC's files exactly as the
// tests run them.
func TestCtrlplane_READMEExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	for _, name := range []string{"disk-swap.json", "dns-update.json", "completion.json", "infra-rollout.yaml",
		"device-verification.yaml", "customer-notification.yaml", "compliance-review.yaml"} {
		require.Contains(t, string(readme), "\n"+rfcText(t, name)+"```", name)
	}
}
