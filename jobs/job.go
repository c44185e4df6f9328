package jobs

import (
	"slices"
	"time"
)

// Job is a deployment job with the manual steps (gates) embedded in it.
// Version increases by one on every change to the job record; log lines
// have their own sequence and do not change it.
type Job struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Status    Status         `json:"status"`
	Version   uint64         `json:"version"`
	Requester string         `json:"requester"`
	Context   map[string]any `json:"context"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
	Message   string         `json:"message,omitempty"`
	// Metadata holds ctrlplane's manual-action/* keys (see MetaName).
	Metadata map[string]string `json:"metadata"`
	Channels []Channel         `json:"channels"`
	Gates    []*Gate           `json:"gates"`
	// Annotations are the job's annotation records. Stores keep them apart
	// from the job record (reading or changing a job never decodes them):
	// a job from Store.GetJob or UpdateJob has none, Service.GetJob fills
	// them in.
	Annotations []AnnotationRef `json:"annotations,omitempty"`
	// AnnotationCount, AnnotationBytes and FileCount are the job's
	// annotation usage, counted in the transaction that adds one: the
	// per-job quotas read them, and the next annotation is numbered
	// AnnotationCount+1.
	AnnotationCount int   `json:"annotationCount,omitempty"`
	AnnotationBytes int64 `json:"annotationBytes,omitempty"`
	FileCount       int   `json:"fileCount,omitempty"`
}

// Channel is a Slack channel bound to a job for discussion and mirroring.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// OpenGate returns the job's open gate, or nil. A job has at most one.
func (j *Job) OpenGate() *Gate {
	for _, g := range j.Gates {
		if g.State == GateOpen {
			return g
		}
	}
	return nil
}

// WaitsOn reports whether the job's open gate is assigned to the identity.
func (j *Job) WaitsOn(id Identity) bool {
	g := j.OpenGate()
	return g != nil && g.Assigned(id)
}

// WaitingKeys lists the AssigneeKey of every assignee of the open gate
// (escalation tiers reached included), without repeats: the keys under
// which a store indexes the job as waiting on someone. Nil without an open
// gate.
func (j *Job) WaitingKeys() []string {
	g := j.OpenGate()
	if g == nil {
		return nil
	}
	var out []string
	for _, a := range g.AllAssignees() {
		if k := AssigneeKey(a); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// Gate returns the gate with the given id, or nil.
func (j *Job) Gate(id string) *Gate {
	for _, g := range j.Gates {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// LastGate returns the most recently opened gate, or nil.
func (j *Job) LastGate() *Gate {
	if len(j.Gates) == 0 {
		return nil
	}
	return j.Gates[len(j.Gates)-1]
}

// HasChannel reports whether the Slack channel id is bound to the job.
func (j *Job) HasChannel(id string) bool {
	for _, c := range j.Channels {
		if c.ID == id {
			return true
		}
	}
	return false
}

// NextWake is the earliest instant at which a timer of the job's open gate
// is due, or the zero time when nothing is scheduled.
func (j *Job) NextWake() time.Time {
	if g := j.OpenGate(); g != nil {
		return g.NextWake()
	}
	return time.Time{}
}

// Clone returns a deep copy, so that a snapshot handed to subscribers is
// never mutated by a later change.
// Every slice, map and pointer is copied (nil stays nil, empty stays
// empty, except Gates, which is never nil); TestJob_Clone_Deep walks every field by reflection, so a field
// added without a copy here fails it.
func (j *Job) Clone() *Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Context = cloneMap(j.Context)
	c.Metadata = cloneStrings(j.Metadata)
	c.Channels = slices.Clone(j.Channels)
	c.Annotations = slices.Clone(j.Annotations)
	c.Gates = make([]*Gate, len(j.Gates)) // never nil: snapshots encode "gates": []
	for i, g := range j.Gates {
		c.Gates[i] = g.clone()
	}
	return &c
}

// cloneMap copies a decoded JSON object, nested objects and arrays too.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneJSON(v)
	}
	return c
}

// cloneJSON copies a decoded JSON value: objects and arrays deeply, the
// rest (strings, numbers, booleans, nil) are values already.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v)
	case []any:
		if v == nil {
			return v
		}
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneJSON(e)
		}
		return c
	default:
		return v
	}
}

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// setStatus moves the job through the state machine.
func (j *Job) setStatus(to Status) error {
	if j.Status == to {
		return nil
	}
	if !CanTransition(j.Status, to) {
		return Errorf(ECONFLICT, "job %s is %s and cannot become %s", j.ID, j.Status, to)
	}
	j.Status = to
	return nil
}
