package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cla-ops/cla/jobs"
	"github.com/cla-ops/cla/slackemu"
)

// demoPrefix starts every demo job id: demo-1, demo-2, …
const demoPrefix = "demo-"

// maxDemos bounds how many demo jobs one workspace makes.
const maxDemos = 1000

// pipeline is the actor the demo's stand-in pipeline acts as.
var pipeline = jobs.Identity{Name: "demo-pipeline"}

// demo creates demo jobs and plays their pipeline: once the approval
// passes, it opens the manual action (as a deploy pipeline would).
type demo struct {
	p *Page
}

func newDemo(p *Page) *demo { return &demo{p: p} }

// DemoResult says what a demo made.
type DemoResult struct {
	JobID   string `json:"jobId"`
	Channel string `json:"channel"`
	URL     string `json:"url"`
}

// StartDemo creates a demo job: an approval needing two votes from ops,
// announced in #deploys, and — once approved — a manual action with a
// checklist and required evidence that completes the job. With bind, the
// person as types "@cla add #job-demo-N" in #general, through the same
// emulator path as anyone, so the bot creates and binds the channel.
func (p *Page) StartDemo(ctx context.Context, actor jobs.Identity, as Person, bind bool) (DemoResult, error) {
	deploys, ok := p.emu.ChannelByName(ChannelDeploys)
	if !ok {
		return DemoResult{}, fmt.Errorf("start demo: no #%s channel", ChannelDeploys)
	}
	job, err := p.createDemoJob(ctx, actor)
	if err != nil {
		return DemoResult{}, err
	}
	approval := jobs.GateConfig{Kind: jobs.KindApproval, Name: "Release v3.1.0 to production",
		Description: "Two people from *ops* must approve before the disk swap on `node-7` starts.",
		Assignees:   []string{"ops"}, Required: 2,
		Channels: []jobs.NotifyChannel{{Type: "slack", ChannelID: deploys.ID}}}
	if _, _, err := p.svc.OpenGate(ctx, pipeline, jobs.ViaAPI, job.ID, approval); err != nil {
		return DemoResult{}, fmt.Errorf("start demo %s: open approval: %w", job.ID, err)
	}
	res := DemoResult{JobID: job.ID, Channel: "job-" + job.ID, URL: p.cfg.PublicURL + "/sandbox/c/job-" + job.ID}
	if bind {
		text := "@" + p.emu.Config().BotName + " add #" + res.Channel
		if _, err := p.emu.Post(slackemu.HumanMessage{User: as.ID, Channel: "#" + ChannelGeneral, Text: text}); err != nil {
			return res, fmt.Errorf("start demo %s: bind #%s: %w", job.ID, res.Channel, err)
		}
	}
	p.log.Info("demo started", "job", job.ID, "by", actor.Name, "as", as.Name)
	return res, nil
}

// createDemoJob creates the next free demo-N job.
func (p *Page) createDemoJob(ctx context.Context, actor jobs.Identity) (*jobs.Job, error) {
	for n := 1; n <= maxDemos; n++ {
		id := fmt.Sprintf("%s%d", demoPrefix, n)
		if _, err := p.svc.GetJob(ctx, id); jobs.ErrorCode(err) != jobs.ENOTFOUND {
			if err != nil {
				return nil, fmt.Errorf("start demo: %w", err)
			}
			continue
		}
		job, err := p.svc.CreateJob(ctx, actor, jobs.ViaWeb, jobs.NewJob{ID: id, Name: "Demo: deploy v3.1.0 and swap a disk",
			Requester: actor.Name, Context: map[string]any{
				"deployment":  map[string]any{"name": "checkout"},
				"environment": map[string]any{"name": "production"},
				"resource":    map[string]any{"name": "node-7"},
				"release":     map[string]any{"version": "v3.1.0"},
			}})
		if jobs.ErrorCode(err) == jobs.ECONFLICT {
			continue // someone else took it
		}
		if err != nil {
			return nil, fmt.Errorf("start demo: %w", err)
		}
		return job, nil
	}
	return nil, jobs.Errorf(jobs.ECONFLICT, "the sandbox already has %d demo jobs", maxDemos)
}

// actionGate is the demo's second step.
func actionGate() jobs.GateConfig {
	return jobs.GateConfig{Kind: jobs.KindAction, Name: "Swap the failed disk in node-7",
		Description: "Drain `node-7`, replace the disk in bay 3 and check that the RAID rebuild started.",
		Assignees:   []string{"ops"}, RequireEvidence: true, CompletesJob: true,
		Checklist: []string{"Drain node-7", "Swap the disk in bay 3", "RAID rebuild started"}}
}

// advance opens the manual action of a demo job whose approval passed.
// It is idempotent: a job with more than one gate is left alone.
func (p *Page) advance(ctx context.Context, id string) {
	if !strings.HasPrefix(id, demoPrefix) {
		return
	}
	job, err := p.svc.GetJob(ctx, id)
	if err != nil || job.Status != jobs.StatusInProgress || len(job.Gates) != 1 {
		return
	}
	if g := job.Gates[0]; g.Kind != jobs.KindApproval || g.Outcome == nil || *g.Outcome != jobs.OutcomeApproved {
		return
	}
	if _, _, err := p.svc.OpenGate(ctx, pipeline, jobs.ViaAPI, id, actionGate()); err != nil {
		p.log.Warn("demo: open the manual action", "job", id, "err", err)
	}
}

// runDemo moves demo jobs on: at start (an approval given while the
// server was down) and after every resolved gate.
func (p *Page) runDemo(ctx context.Context) {
	sub := p.svc.Broker().Subscribe("sandbox-demo", 64)
	defer sub.Close()
	p.advanceAll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-sub.Events:
			if e.Type == jobs.EventGateResolved && e.Job != nil {
				p.advance(ctx, e.Job.ID)
			}
		case <-sub.Resync: // events were dropped: look at every demo again
			p.advanceAll(ctx)
		}
	}
}

// advanceAll moves every demo job on.
func (p *Page) advanceAll(ctx context.Context) {
	for n := 1; n <= maxDemos; n++ {
		id := fmt.Sprintf("%s%d", demoPrefix, n)
		if _, err := p.svc.GetJob(ctx, id); err != nil {
			break
		}
		p.advance(ctx, id)
	}
}

// startDemo is the "Start a demo" button.
func (p *Page) startDemo(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	res, err := p.StartDemo(r.Context(), v.Identity, v.As, true)
	if err != nil {
		p.log.Error("start demo", "err", err)
		p.errorPage(w, r, v, http.StatusInternalServerError, "The demo could not start: "+jobs.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/sandbox/c/"+ChannelDeploys+"?demo="+res.JobID, http.StatusSeeOther)
}

// apiDemo is POST /sandbox/api/demo for `cla sandbox demo`: a bearer
// token as for /v1, JSON {as?, bind?} in (bind defaults to true), a
// DemoResult out.
func (p *Page) apiDemo(w http.ResponseWriter, r *http.Request) {
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if p.cfg.Authenticate == nil || !ok {
		writeJSON(http.StatusUnauthorized, map[string]string{"error": "missing bearer token", "code": "unauthorized"})
		return
	}
	id, ok := p.cfg.Authenticate(strings.TrimSpace(token))
	if !ok {
		writeJSON(http.StatusUnauthorized, map[string]string{"error": "unknown bearer token", "code": "unauthorized"})
		return
	}
	var in struct {
		As   string `json:"as"`
		Bind *bool  `json:"bind"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil && err.Error() != "EOF" {
		writeJSON(http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"as\": \"alice\"}", "code": jobs.EINVALID})
		return
	}
	as := People[0]
	if in.As != "" {
		if as, ok = PersonByName(in.As); !ok {
			writeJSON(http.StatusBadRequest, map[string]string{"error": "no sandbox person " + in.As + ": choose " + personNames(), "code": jobs.EINVALID})
			return
		}
	}
	res, err := p.StartDemo(r.Context(), id, as, in.Bind == nil || *in.Bind)
	if err != nil {
		p.log.Error("start demo", "err", err)
		writeJSON(http.StatusInternalServerError, map[string]string{"error": jobs.ErrorMessage(err), "code": jobs.ErrorCode(err)})
		return
	}
	writeJSON(http.StatusCreated, res)
}
