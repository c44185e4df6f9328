package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

var jobVerbs = []command{
	{"create", "create a job", jobCreate},
	{"list", "list jobs, newest first", jobList},
	{"show", "show one job and its gates", jobShow},
	{"log", "print (or --follow) a job's log", jobLog},
	{"annotate", "attach a comment, log, file or data to a job", jobAnnotate},
	{"annotation", "get a file annotation's content: annotation get <job> <n>", jobAnnotation},
	{"check", "tick a checklist item of the open gate", jobCheck},
	{"progress", "report pipeline progress: in_progress, successful, failure", jobProgress},
	{"cancel", "cancel a job (and its open gate)", jobCancel},
}

func runJob(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr
		}
		fmt.Fprint(w, "Usage:\n  cla job <verb> [arguments] [flags]\n\nVerbs:\n")
		for _, v := range jobVerbs {
			fmt.Fprintf(w, "  %-9s %s\n", v.name, v.summary)
		}
		fmt.Fprint(w, "\nRun 'cla job <verb> --help' for details.\n")
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	for _, v := range jobVerbs {
		if v.name == args[0] {
			return v.run(ctx, e, args[1:])
		}
	}
	var names []string
	for _, v := range jobVerbs {
		names = append(names, v.name)
	}
	e.errorf("unknown job verb %q%s\nRun 'cla job --help' for the list.", args[0], suggest(args[0], names))
	return exitError
}

func jobCreate(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var in jobs.NewJob
	var contextJSON, contextFile, agentFile string
	fs := newFlags(e, "job create", help{
		usage: "cla job create --name NAME [--id ID] [--context JSON|@FILE | --context-file FILE] [flags]\n" +
			"  cla job create --agent-config FILE [--context JSON|@FILE] [--id ID] [flags]",
		about: "Creates a job. The id (like qa-1234) is generated when not given. The context is free JSON\n" +
			"(deployment, environment, resource, release, ...) that gate descriptions can use: {[ .resource.name ]}.\n" +
			"With --agent-config, the job is ctrlplane's dispatch of a manual action: FILE is the RFC's\n" +
			"manual-action config (JSON or YAML), bare or as the jobAgentConfig of a `type: Deployment` document,\n" +
			"whose slug and name fill context.deployment; the action opens at once, its outcome ends the job,\n" +
			"and the job's name defaults to the config's rendered name.\n" +
			"Prints the job id in text mode.",
		examples: `  cla job create --id qa-1234 --name "Deploy v3.1.0" --context '{"resource":{"name":"node-7"}}'
  id=$(cla job create --name "Nightly rollout")
  cla job create --agent-config infra-rollout.yaml --context @dispatch-context.json`,
	})
	cf.register(fs, e)
	fs.StringVar(&in.ID, "id", "", "job id: [a-z0-9][a-z0-9._-]{0,63}; generated if empty")
	fs.StringVar(&in.Name, "name", "", "what the job does (required)")
	fs.StringVar(&in.Requester, "requester", "", "who asked for it (default: the token's identity)")
	fs.StringVar(&contextJSON, "context", "", "dispatch context as a JSON object, or @FILE to read it (JSON or YAML)")
	fs.StringVar(&agentFile, "agent-config", "", "ctrlplane manual-action config `FILE` to dispatch (JSON or YAML)")
	fs.StringVar(&contextFile, "context-file", "", "read the dispatch context from a JSON file")
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	ctxData, err := readContext(contextJSON, contextFile)
	if err != nil {
		e.errorf("job create: %v", err)
		return exitError
	}
	in.Context = ctxData
	if agentFile != "" {
		ac, err := loadAgentConfig(agentFile)
		if err != nil {
			e.errorf("job create: %v", err)
			return exitError
		}
		in.JobAgentConfig = &ac.cfg
		in.Context = fillDeployment(in.Context, ac.deployment)
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job create: %v", err)
		return exitError
	}
	job, err := cl.CreateJob(ctx, in)
	if err != nil {
		return cf.fail(e, "create job", err)
	}
	cf.show(e, job, func(w io.Writer) { fmt.Fprintln(w, job.ID) })
	return exitOK
}

func readContext(inline, file string) (map[string]any, error) {
	if strings.HasPrefix(inline, "@") {
		if file != "" {
			return nil, fmt.Errorf("give --context or --context-file, not both")
		}
		inline, file = "", strings.TrimPrefix(inline, "@")
	}
	data := []byte(inline)
	if file != "" {
		if inline != "" {
			return nil, fmt.Errorf("give --context or --context-file, not both")
		}
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("read context file: %w", err)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("context must be a JSON object: %v", err)
	}
	return m, nil
}

func jobList(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var q jobs.ListQuery
	var status string
	fs := newFlags(e, "job list", help{
		usage:    "cla job list [--status STATUS] [--limit N] [--cursor C] [flags]",
		about:    "Lists jobs, newest first. Statuses: pending, in_progress, action_required, awaiting_approval,\npaused, successful, failure, rejected, cancelled.",
		examples: "  cla job list --status action_required\n  cla job list --output json --limit 200",
	})
	cf.register(fs, e)
	fs.StringVar(&status, "status", "", "only jobs in this status")
	fs.IntVar(&q.Limit, "limit", 50, "at most this many jobs (max 500)")
	fs.StringVar(&q.Cursor, "cursor", "", "continue a previous listing")
	if _, code, ok := parse(e, fs, args, 0); !ok {
		return code
	}
	q.Status = jobs.Status(status)
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job list: %v", err)
		return exitError
	}
	page, err := cl.ListJobs(ctx, q)
	if err != nil {
		return cf.fail(e, "list jobs", err)
	}
	cf.show(e, page, func(w io.Writer) { printJobs(w, page) })
	return exitOK
}

func jobShow(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	fs := newFlags(e, "job show", help{usage: "cla job show <job> [flags]", about: "Shows a job, its status and every gate.",
		examples: "  cla job show qa-1234\n  cla job show qa-1234 --output json | jq .status"})
	cf.register(fs, e)
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job show: %v", err)
		return exitError
	}
	job, err := cl.GetJob(ctx, pos[0])
	if err != nil {
		return cf.fail(e, "show job "+pos[0], err)
	}
	cf.show(e, job, func(w io.Writer) { printJob(w, job) })
	return exitOK
}

func jobLog(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var after uint64
	var follow, full bool
	fs := newFlags(e, "job log", help{usage: "cla job log <job> [--after SEQ] [--follow] [--full] [flags]",
		about: "Prints a job's log: audit trail, mirrored Slack messages, annotations, TalkBack output.\n" +
			"Slack edits, deletes and thread replies are marked, files show name and size, and log\n" +
			"annotations longer than 12 lines show their first and last lines (--full shows all).\n" +
			"--follow streams new entries until interrupted (Ctrl-C). --output json prints one JSON object per line.",
		examples: "  cla job log qa-1234\n  cla job log qa-1234 --follow --after 40\n  cla job log qa-1234 --full"})
	cf.register(fs, e)
	fs.Uint64Var(&after, "after", 0, "only entries after this sequence number")
	fs.BoolVar(&follow, "follow", false, "keep streaming new entries")
	fs.BoolVar(&full, "full", false, "show long log annotations whole")
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job log: %v", err)
		return exitError
	}
	print := func(en jobs.LogEntry) error {
		if cf.output == "json" {
			return json.NewEncoder(e.stdout).Encode(en)
		}
		printEntry(e.stdout, en, full)
		return nil
	}
	if follow {
		err := cl.StreamLog(ctx, pos[0], after, print)
		if err != nil && ctx.Err() == nil {
			return cf.fail(e, "follow log of "+pos[0], err)
		}
		return exitOK
	}
	for {
		entries, err := cl.Log(ctx, pos[0], after)
		if err != nil {
			return cf.fail(e, "log of "+pos[0], err)
		}
		for _, en := range entries {
			if err := print(en); err != nil { // stdout closed: stop, as --follow does
				e.errorf("job log: write: %v", err)
				return exitError
			}
			after = en.Seq
		}
		if len(entries) == 0 {
			return exitOK // a page may hold fewer than 1000 (limits.logPageBytes)
		}
	}
}

func jobAnnotate(ctx context.Context, e *env, args []string) int {
	var cf clientFlags
	var in jobs.NewAnnotation
	var file, data string
	fs := newFlags(e, "job annotate", help{usage: "cla job annotate <job> (--text TEXT | --file PATH | --data JSON) [--kind KIND] [flags]",
		about: "Attaches an annotation to a job (terminal jobs too). Kinds: comment (default), log, file, misc.\n" +
			"--file uploads a file (at most 1 MiB) as a file annotation named after it; with --kind log\n" +
			"(or comment) the file's text becomes the annotation's text.",
		examples: "  cla job annotate qa-1234 --text \"disk swapped, serial ABC123\"\n" +
			"  cla job annotate qa-1234 --file smoke-test.log\n  cla job annotate qa-1234 --kind log --file build.log\n  cla job annotate qa-1234 --kind misc --data '{\"build\": 812}'"})
	cf.register(fs, e)
	fs.StringVar(&in.Kind, "kind", "", "comment, log, file or misc")
	fs.StringVar(&in.Text, "text", "", "the text")
	fs.StringVar(&in.Name, "name", "", "the file name (default: the base name of --file)")
	fs.StringVar(&file, "file", "", "attach this file")
	fs.StringVar(&data, "data", "", "structured data, a JSON object (misc)")
	pos, code, ok := parse(e, fs, args, 1)
	if !ok {
		return code
	}
	if err := fillAnnotation(&in, file, data); err != nil {
		e.errorf("job annotate: %v", err)
		return exitError
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("job annotate: %v", err)
		return exitError
	}
	if err := cl.Annotate(ctx, pos[0], in); err != nil {
		return cf.fail(e, "annotate "+pos[0], err)
	}
	cf.show(e, map[string]string{"jobId": pos[0], "kind": in.Kind}, func(w io.Writer) { fmt.Fprintf(w, "annotated %s (%s)\n", pos[0], in.Kind) })
	return exitOK
}

func fillAnnotation(in *jobs.NewAnnotation, file, data string) error {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if in.Name == "" {
			in.Name = filepath.Base(file)
		}
		switch in.Kind {
		case jobs.AnnotationLog, jobs.AnnotationComment:
			// A log or comment from a file: its text is the file.
			if in.Text != "" {
				return fmt.Errorf("--text and --file both give the text of a %s annotation; use one", in.Kind)
			}
			in.Text = string(b)
		case "", jobs.AnnotationFile:
			in.Kind, in.Content = jobs.AnnotationFile, b
		default:
			return fmt.Errorf("--file makes a file, log or comment annotation, not %s", in.Kind)
		}
	}
	if data != "" {
		if err := json.Unmarshal([]byte(data), &in.Data); err != nil {
			return fmt.Errorf("--data must be a JSON object: %v", err)
		}
		if in.Kind == "" {
			in.Kind = jobs.AnnotationMisc
		}
	}
	if in.Kind == "" {
		in.Kind = jobs.AnnotationComment
	}
	return nil
}

func jobProgress(ctx context.Context, e *env, args []string) int {
	return progressCmd(ctx, e, args, "")
}

func jobCancel(ctx context.Context, e *env, args []string) int {
	return progressCmd(ctx, e, args, jobs.StatusCancelled)
}

// progressCmd backs "job progress <job> <status>" and "job cancel <job>".
func progressCmd(ctx context.Context, e *env, args []string, fixed jobs.Status) int {
	var cf clientFlags
	var msg string
	h := help{usage: "cla job progress <job> in_progress|successful|failure|cancelled [--message TEXT] [flags]",
		about:    "Reports automated progress (PATCH /v1/jobs/<job>). A job with an open gate only accepts cancelled.",
		examples: "  cla job progress qa-1234 in_progress --message \"rolling out\"\n  cla job progress qa-1234 successful"}
	name, want := "job progress", 2
	if fixed != "" {
		h = help{usage: "cla job cancel <job> [--message TEXT] [flags]", about: "Cancels a job; its open gate, if any, ends as cancelled.",
			examples: "  cla job cancel qa-1234 --message \"superseded by qa-1240\""}
		name, want = "job cancel", 1
	}
	fs := newFlags(e, name, h)
	cf.register(fs, e)
	fs.StringVar(&msg, "message", "", "why, for the audit trail")
	pos, code, ok := parse(e, fs, args, want)
	if !ok {
		return code
	}
	status := fixed
	if status == "" {
		status = jobs.Status(pos[1])
	}
	cl, err := cf.client(e)
	if err != nil {
		e.errorf("%s: %v", name, err)
		return exitError
	}
	job, err := cl.Progress(ctx, pos[0], status, msg)
	if err != nil {
		return cf.fail(e, fmt.Sprintf("set %s to %s", pos[0], status), err)
	}
	cf.show(e, job, func(w io.Writer) { fmt.Fprintf(w, "%s is %s\n", job.ID, job.Status) })
	return exitOK
}
