package jobs

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// EFROZEN refuses a change during a deployment freeze (HTTP 409, code
// "frozen").
const EFROZEN = "frozen"

// Freeze is a deployment freeze (ctrlplane's RFC 0008, the manual-action
// RFC's open question 8): while it is active, no job whose dispatch context
// matches it may be created, and, with BlockCompletion, no manual action of
// such a job may be completed or failed. No Environments and no Deployments
// means every job. It ends by itself at Until.
type Freeze struct {
	ID              string    `json:"id"`
	Reason          string    `json:"reason"`
	From            time.Time `json:"from"`
	Until           time.Time `json:"until"`
	Environments    []string  `json:"environments"`
	Deployments     []string  `json:"deployments"`
	BlockCompletion bool      `json:"blockCompletion"`
	CreatedBy       string    `json:"createdBy"`
	CreatedAt       time.Time `json:"createdAt"`
}

// NewFreeze is what an admin says about a freeze.
type NewFreeze struct {
	Reason          string     `json:"reason"`
	From            *time.Time `json:"from,omitempty"`
	Until           *time.Time `json:"until"`
	Environments    []string   `json:"environments,omitempty"`
	Deployments     []string   `json:"deployments,omitempty"`
	BlockCompletion bool       `json:"blockCompletion,omitempty"`
}

// Freeze limits.
const (
	maxFreezeReason  = 500
	maxFreezeTargets = 100
	// MaxFreezes caps the freezes kept at once.
	MaxFreezes = 1000
)

// Active reports whether the freeze holds at t.
func (f Freeze) Active(t time.Time) bool { return !t.Before(f.From) && t.Before(f.Until) }

// Matches reports whether the freeze covers a job's dispatch context:
// environment.name among Environments and deployment.slug among
// Deployments, an empty list matching everything.
func (f Freeze) Matches(ctx map[string]any) bool {
	return within(f.Environments, contextString(ctx, "environment", "name")) &&
		within(f.Deployments, contextString(ctx, "deployment", "slug"))
}

// Text describes the freeze for refusals: its reason and end.
func (f Freeze) Text() string {
	return fmt.Sprintf("deployment freeze %s until %s: %s", f.ID, f.Until.UTC().Format(time.RFC3339), f.Reason)
}

func within(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func contextString(ctx map[string]any, path ...string) string {
	var cur any = ctx
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

func (in NewFreeze) validate(now time.Time) error {
	switch {
	case strings.TrimSpace(in.Reason) == "":
		return Errorf(EINVALID, "a freeze needs a reason")
	case len([]rune(in.Reason)) > maxFreezeReason:
		return Errorf(EINVALID, "reason is longer than %d characters", maxFreezeReason)
	case in.Until == nil:
		return Errorf(EINVALID, "a freeze needs until (RFC 3339, like 2026-03-14T18:00:00Z)")
	case !in.Until.After(now):
		return Errorf(EINVALID, "until %s has already passed", in.Until.UTC().Format(time.RFC3339))
	case in.From != nil && !in.From.Before(*in.Until):
		return Errorf(EINVALID, "from must be before until")
	case len(in.Environments) > maxFreezeTargets || len(in.Deployments) > maxFreezeTargets:
		return Errorf(EINVALID, "a freeze names at most %d environments and %d deployments", maxFreezeTargets, maxFreezeTargets)
	}
	for i, e := range append(append([]string(nil), in.Environments...), in.Deployments...) {
		if strings.TrimSpace(e) == "" {
			return Errorf(EINVALID, "environments and deployments must not be blank (entry %d)", i)
		}
	}
	return nil
}

// CreateFreeze starts a deployment freeze; admins only.
func (s *Service) CreateFreeze(ctx context.Context, actor Identity, in NewFreeze) (Freeze, error) {
	if !actor.Admin {
		return Freeze{}, Errorf(EFORBIDDEN, "only admins may freeze deployments")
	}
	now := s.Now()
	if err := in.validate(now); err != nil {
		return Freeze{}, err
	}
	kept, err := s.pruneFreezes(ctx, now)
	if err != nil {
		return Freeze{}, err
	}
	if kept >= MaxFreezes {
		return Freeze{}, Errorf(ECONFLICT, "%d freezes are already in force; lift some first", kept)
	}
	f := Freeze{ID: "fz-" + idEncoding.EncodeToString(randomBytes(5)), Reason: in.Reason, From: now, Until: in.Until.UTC(),
		Environments: nonNil(in.Environments), Deployments: nonNil(in.Deployments), BlockCompletion: in.BlockCompletion,
		CreatedBy: actor.Name, CreatedAt: now}
	if in.From != nil {
		f.From = in.From.UTC()
	}
	if err := s.store.PutFreeze(ctx, f); err != nil {
		return Freeze{}, fmt.Errorf("store freeze: %w", err)
	}
	return f, nil
}

// Freezes lists the freezes that have not ended, soonest-ending first.
func (s *Service) Freezes(ctx context.Context) ([]Freeze, error) {
	now := s.Now()
	all, err := s.store.Freezes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list freezes: %w", err)
	}
	out := []Freeze{}
	for _, f := range all {
		if now.Before(f.Until) {
			out = append(out, f)
		}
	}
	return out, nil
}

// LiftFreeze ends a freeze before its time; admins only.
func (s *Service) LiftFreeze(ctx context.Context, actor Identity, id string) error {
	if !actor.Admin {
		return Errorf(EFORBIDDEN, "only admins may lift a freeze")
	}
	if err := s.store.DeleteFreeze(ctx, id); err != nil {
		return err
	}
	return nil
}

// pruneFreezes forgets freezes that ended: a freeze's lifetime is its
// until, so the store never grows with old ones.
// It returns how many are kept.
func (s *Service) pruneFreezes(ctx context.Context, now time.Time) (int, error) {
	all, err := s.store.Freezes(ctx)
	if err != nil {
		return 0, fmt.Errorf("list freezes: %w", err)
	}
	kept := 0
	for _, f := range all {
		if now.Before(f.Until) {
			kept++
			continue
		}
		if err := s.store.DeleteFreeze(ctx, f.ID); err != nil && ErrorCode(err) != ENOTFOUND {
			return 0, fmt.Errorf("prune freeze %s: %w", f.ID, err)
		}
	}
	return kept, nil
}

// activeFreezes lists the freezes in force now; completion keeps only
// those that block completion.
func (s *Service) activeFreezes(ctx context.Context, completion bool) ([]Freeze, error) {
	all, err := s.store.Freezes(ctx)
	if err != nil {
		return nil, fmt.Errorf("read freezes: %w", err)
	}
	now := s.Now()
	var out []Freeze
	for _, f := range all {
		if f.Active(now) && (!completion || f.BlockCompletion) {
			out = append(out, f)
		}
	}
	return out, nil
}

// frozen returns the refusal for a job context under one of the freezes,
// or nil.
func frozen(freezes []Freeze, jobCtx map[string]any, completion bool) error {
	for _, f := range freezes {
		if f.Matches(jobCtx) {
			if completion {
				return Errorf(EFROZEN, "completion is blocked by %s", f.Text())
			}
			return Errorf(EFROZEN, "new jobs are refused during %s", f.Text())
		}
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails (it aborts the program instead)
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
