package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/cla-ops/cla/internal/web"
	"github.com/cla-ops/cla/jobs"
)

// LimitsConfig is the config's `limits:` section: every bound the server
// puts on what one caller may ask of it. Zero or absent means the default
// (README, "Security").
type LimitsConfig struct {
	MinReminderInterval string `yaml:"minReminderInterval"`
	MaxReminders        int    `yaml:"maxReminders"`
	MaxEscalations      int    `yaml:"maxEscalations"`
	MaxChannels         int    `yaml:"maxChannels"`
	GatesPerMinute      int    `yaml:"gatesPerMinute"`
	MaxAssignees        int    `yaml:"maxAssignees"`
	MaxChecklistItems   int    `yaml:"maxChecklistItems"`
	// TalkbackQueue is how many TalkBack commands may wait for one of
	// the server's four slots (talkback.DefaultMaxQueued when 0).
	TalkbackQueue int `yaml:"talkbackQueue"`
	// MarkdownBytes is the longest gate description the web monitor
	// renders as Markdown (monitor.DefaultMarkdownBytes when 0).
	MarkdownBytes       int    `yaml:"markdownBytes"`
	TemplateOutputBytes int    `yaml:"templateOutputBytes"`
	TemplateTime        string `yaml:"templateTime"`
	TemplateNesting     int    `yaml:"templateNesting"`
	TemplateIterations  int    `yaml:"templateIterations"`
	BodyTimeout         string `yaml:"bodyTimeout"`
	HeaderTimeout       string `yaml:"headerTimeout"`
	SendTimeout         string `yaml:"sendTimeout"`
	ConnsPerClient      int    `yaml:"connsPerClient"`
	// Sizes and per-job quotas (quotas.go).
	AnnotationBytes    int   `yaml:"annotationBytes"`
	JobAnnotations     int   `yaml:"jobAnnotations"`
	JobAnnotationBytes int64 `yaml:"jobAnnotationBytes"`
	JobFiles           int   `yaml:"jobFiles"`
	JobLogEntries      int   `yaml:"jobLogEntries"`
	LogPageBytes       int   `yaml:"logPageBytes"`
	JobPageBytes       int   `yaml:"jobPageBytes"`
}

// Limits turns the section into the domain's and the API's limits, or
// says which setting is wrong.
func (l LimitsConfig) Limits() (jobs.Limits, jobs.TemplateLimits, web.Config, error) {
	var errs []error
	dur := func(name, v string) time.Duration { return positiveDuration("limits."+name, v, "1m", &errs) }
	for name, n := range map[string]int{"maxReminders": l.MaxReminders, "maxEscalations": l.MaxEscalations, "maxChannels": l.MaxChannels,
		"gatesPerMinute": l.GatesPerMinute, "templateOutputBytes": l.TemplateOutputBytes, "templateNesting": l.TemplateNesting,
		"templateIterations": l.TemplateIterations, "connsPerClient": l.ConnsPerClient, "maxAssignees": l.MaxAssignees, "talkbackQueue": l.TalkbackQueue, "markdownBytes": l.MarkdownBytes, "maxChecklistItems": l.MaxChecklistItems} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("limits.%s must not be negative", name))
		}
	}
	jl := jobs.Limits{MinReminderInterval: dur("minReminderInterval", l.MinReminderInterval), MaxReminders: l.MaxReminders,
		MaxEscalations: l.MaxEscalations, MaxChannels: l.MaxChannels, GatesPerMinute: l.GatesPerMinute, MaxAssignees: l.MaxAssignees, MaxChecklistItems: l.MaxChecklistItems}
	tl := jobs.TemplateLimits{MaxOutput: l.TemplateOutputBytes, MaxTime: dur("templateTime", l.TemplateTime),
		MaxNesting: l.TemplateNesting, MaxIterations: l.TemplateIterations}
	wc := web.Config{BodyTimeout: dur("bodyTimeout", l.BodyTimeout), ReadHeaderTimeout: dur("headerTimeout", l.HeaderTimeout),
		SendTimeout: dur("sendTimeout", l.SendTimeout), MaxConnsPerClient: l.ConnsPerClient}
	for name, d := range map[string]time.Duration{"bodyTimeout": wc.BodyTimeout, "headerTimeout": wc.ReadHeaderTimeout, "sendTimeout": wc.SendTimeout} {
		if d > 60*time.Second {
			errs = append(errs, fmt.Errorf("limits.%s %s exceeds 60s: a stalled client must be cut off within a minute", name, d))
		}
	}
	return jl, tl, wc, errors.Join(errs...)
}

// positiveDuration reads setting key: "" is 0 (the default); anything but a
// positive duration adds an error naming the key, with an example, to errs.
func positiveDuration(key, v, example string, errs *[]error) time.Duration {
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s %q must be a positive duration like %s", key, v, example))
		return 0
	}
	return d
}
