// Package talkback lets chat users run a fixed, reviewed set of commands
// ("actions") against a job, without ever handing them a shell.
//
// An allowlist file (YAML) declares each action: its argv (each element a Go
// text/template over .args, .job, .user and .channel), its arguments with a
// pattern or an enum, an expr-lang guard ("when"), a timeout, an output cap,
// an explicit environment, and whether a second person must confirm it.
// Everything that can be checked is checked at load time, and every mistake
// is reported as "file:line: reason", so a bad file never reaches production
// (see Load and Check; Registry.Reload keeps the old list in force).
//
// Running a command is three steps, each with a clear owner:
//
//	req, err := talkback.ParseCommand(text)         // chat text after "run"
//	inv, err := registry.Current().Prepare(req, env) // validate args, guard, render argv
//	res, err := executor.Run(ctx, env.Job.ID, inv)   // no shell, process group, caps
//
// Every error that is the user's to fix is a *Refusal whose Reason can be
// shown in chat as is; any other error is internal and should only be logged.
//
// This package imports nothing of the rest of cla: callers translate their
// job and identity types into Env.
package talkback
