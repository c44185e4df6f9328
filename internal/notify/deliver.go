package notify

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cla-ops/cla/jobs"
)

const maxErrText = 500

// runLane delivers a lane's due notifications in order and stops at the
// first failure: the rest wait for the failed one's retry.
func (o *Outbox) runLane(ctx context.Context, l lane) {
	defer o.release(l.key)
	for _, n := range l.items {
		if ctx.Err() != nil || !o.deliver(ctx, n) {
			return
		}
	}
}

// deliver sends one notification and records the result; it reports
// whether the lane may go on.
func (o *Outbox) deliver(ctx context.Context, n jobs.Notification) bool {
	notifier, ok := o.notifiers[n.Channel.Type]
	if !ok {
		o.log.Info("no notifier for channel type; skipping", "type", n.Channel.Type, "notification", n.ID)
		if n.Event != jobs.NotifyGateResolved {
			o.note(ctx, n, fmt.Sprintf("notification %s skipped: %s", describe(n), unconfigured(n.Channel.Type)), "skipped")
		}
		return o.settle(ctx, n)
	}
	job, err := o.svc.GetJob(ctx, n.JobID)
	if jobs.ErrorCode(err) == jobs.ENOTFOUND || jobs.ErrorCode(err) == jobs.EINVALID {
		o.log.Warn("notification for unknown job; dropping", "job", n.JobID, "notification", n.ID)
		o.metrics.dropped.WithLabelValues(string(n.Channel.Type)).Inc()
		return o.settle(ctx, n)
	}
	if err == nil {
		dctx, cancel := context.WithTimeout(ctx, o.timeout)
		err = notifier.Notify(dctx, n, job)
		cancel()
	}
	switch {
	case ctx.Err() != nil:
		return false // shutting down: not the target's fault; resent at start
	case err == nil:
		o.metrics.sent.WithLabelValues(string(n.Channel.Type)).Inc()
		if n.Attempts > 0 {
			o.note(ctx, n, fmt.Sprintf("notification %s delivered after %d failed attempts", describe(n), n.Attempts), "delivered")
		}
		return o.settle(ctx, n)
	case isPermanent(err):
		o.metrics.dropped.WithLabelValues(string(n.Channel.Type)).Inc()
		o.note(ctx, n, fmt.Sprintf("notification %s dropped: %s", describe(n), errText(err)), "dropped")
		o.jobMessage(ctx, n, err)
		return o.settle(ctx, n)
	}
	o.fail(ctx, n, err)
	return false
}

// fail defers the notification with backoff, counts the failure and, for
// the first and every tenth attempt, says so in the job log.
func (o *Outbox) fail(ctx context.Context, n jobs.Notification, err error) {
	o.metrics.failures.WithLabelValues(string(n.Channel.Type)).Inc()
	attempt := n.Attempts + 1
	delay := retryDelay(err, attempt, o.jitter())
	next := o.svc.Now().Add(delay)
	if derr := o.svc.Store().DeferNotification(ctx, n.ID, next, errText(err)); derr != nil {
		o.log.Error("defer notification", "notification", n.ID, "err", derr)
	}
	if !shouldLog(attempt) {
		o.log.Debug("notification failed", "notification", n.ID, "attempt", attempt, "err", errText(err))
		return
	}
	o.log.Warn("notification failed", "notification", n.ID, "attempt", attempt, "retry_in", delay, "err", errText(err))
	if attempt == 1 {
		o.jobMessage(ctx, n, err)
	}
	text := fmt.Sprintf("notification %s failed (attempt %d), retrying at %s: %s",
		describe(n), attempt, next.Format(time.RFC3339), errText(err))
	o.note(ctx, n, text, "failed:"+strconv.Itoa(attempt))
}

// unconfigured says why a channel type has no notifier.
func unconfigured(typ jobs.ChannelType) string {
	switch typ {
	case jobs.ChannelSlack:
		return "Slack is not configured (no SLACK_BOT_TOKEN / SLACK_APP_TOKEN)"
	case jobs.ChannelEmail:
		return "email is not configured (no notify.email SMTP settings)"
	case jobs.ChannelWebhook:
		return "webhooks are not configured (no notify.webhook.secret)"
	}
	return "no notifier handles channel type " + string(typ)
}

// jobMessage sets the job's message to ctrlplane's "notification delivery
// failed: …" for a failed announcement of a gate.
func (o *Outbox) jobMessage(ctx context.Context, n jobs.Notification, err error) {
	if n.Event != jobs.NotifyGateOpened {
		return
	}
	if derr := o.svc.DeliveryFailed(ctx, n.JobID, describe(n)+": "+errText(err)); derr != nil {
		o.log.Error("set job message", "job", n.JobID, "err", derr)
	}
}

// note appends a notify entry to the job log, idempotently per outcome.
func (o *Outbox) note(ctx context.Context, n jobs.Notification, text, outcome string) {
	entry := jobs.LogEntry{Kind: jobs.LogNotify, Actor: jobs.System.Name, Gate: n.GateID, Text: text,
		Fields: map[string]string{"notification": n.ID, "event": n.Event, "channel": string(n.Channel.Type), "outcome": outcome},
		Key:    "notify:" + n.ID + ":" + outcome}
	if _, err := o.svc.AppendLog(ctx, n.JobID, []jobs.LogEntry{entry}); err != nil {
		o.log.Error("log notification outcome", "job", n.JobID, "err", err)
	}
}

func (o *Outbox) settle(ctx context.Context, n jobs.Notification) bool {
	err := o.svc.Store().SettleNotification(ctx, n.ID)
	if err != nil && jobs.ErrorCode(err) != jobs.ENOTFOUND {
		o.log.Error("settle notification", "notification", n.ID, "err", err)
		return false
	}
	return true
}

// describe names a notification for people: event and channel, with a
// webhook URL cut to its host (URLs may embed credentials).
func describe(n jobs.Notification) string {
	target := n.Channel.Target()
	if n.Channel.Type == jobs.ChannelWebhook {
		target = redactURL(target)
	}
	if target == "" {
		return n.Event + " via " + string(n.Channel.Type)
	}
	return n.Event + " via " + string(n.Channel.Type) + " " + target
}

func errText(err error) string {
	s := err.Error()
	if len(s) > maxErrText {
		s = s[:maxErrText] + "…"
	}
	return s
}
