// Package talkbot is the Slack side of TalkBack: it turns
// "@cla run <action> key=value…" (and "/manual-action run …") typed in a
// job's channel into a checked talkback.Invocation, runs it through the
// talkback.Executor, and reports every step in the job log and in the
// channel's thread.
//
// The flow for one request:
//
//	text → cleanText (Slack escapes and auto-links undone)
//	     → talkback.ParseCommand → Allowlist.Prepare (args, guard, argv)
//	     → confirm? post a confirm message and wait for a second person
//	     → Executor.Run → job log (kind talkback) + log annotation + thread reply
//
// Anything the requester can fix is answered ephemerally and nothing runs.
// Pending confirmations live in the store (jobs.ChatState) for PendingTTL,
// so a click delivered to another replica, or after a restart, finds its
// request; settling one is a conditional write, so it runs at most once.
package talkbot
