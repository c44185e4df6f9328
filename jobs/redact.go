package jobs

import "net/url"

// redactedText stands in for credentials and query values in URLs shown
// to anyone but the delivery itself.
const redactedText = "REDACTED"

// RedactURL hides what a URL may carry as a secret: its user:password and
// every query value (Slack and chat webhooks put their token in the path,
// which is kept, or the query). An unparsable URL is hidden whole.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redactedText
	}
	if u.User != nil {
		u.User = url.User(redactedText)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{redactedText}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

func redactChannels(chs []NotifyChannel) []NotifyChannel {
	if len(chs) == 0 {
		return chs
	}
	out := make([]NotifyChannel, len(chs))
	for i, c := range chs {
		c.URL = RedactURL(c.URL)
		out[i] = c
	}
	return out
}

// Redacted is a copy of the gate with webhook URL credentials hidden: what
// the API, the monitor and other receivers may see. It is shallow (for
// encoding): only the channels are new.
func (g *Gate) Redacted() *Gate {
	if g == nil {
		return nil
	}
	c := *g
	c.Channels = redactChannels(g.Channels)
	if g.Escalation != nil {
		c.Escalation = make([]Escalation, len(g.Escalation))
		for i, e := range g.Escalation {
			e.Channels = redactChannels(e.Channels)
			c.Escalation[i] = e
		}
	}
	return &c
}

// Redacted is a shallow copy of the job whose gates are Redacted; empty
// lists stay empty (not null) in JSON.
func (j *Job) Redacted() *Job {
	if j == nil {
		return nil
	}
	c := *j
	if j.Gates != nil {
		c.Gates = make([]*Gate, len(j.Gates))
		for i, g := range j.Gates {
			c.Gates[i] = g.Redacted()
		}
	}
	return &c
}
