// Package bot is cla's Slack adapter: the Socket Mode loop, the router that
// hands each request to a named handler, the "@cla …" mention commands, and
// the mirroring of job channels into the job log.
//
// The loop is deliberately small: it turns every Socket Mode envelope into a
// plain Incoming value, acknowledges it before any slow work (a mirrored
// message is acknowledged right after its durable append, which is batched),
// and runs handlers with bounded concurrency. Everything that changes a job
// goes through *jobs.Service, so Slack is one door among several.
package bot
