package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cla-ops/cla/internal/bot/people"
	"github.com/cla-ops/cla/jobs"
)

// CommandSpec is one "@cla <name> …" command. The table of specs is the
// extension point: TalkBack adds "run" with AddCommand.
type CommandSpec struct {
	Name  string // the verb, lower case
	Usage string // e.g. "note <text>", shown by help
	Help  string // one line saying what it does
	// Use is what the command asks of cla, for slack.unknownUsers: Read,
	// Talk or Act (the zero value is held to Act's rule).
	Use people.Use
	// Run does the command. Its Answer is posted (ephemeral unless it asks
	// for the thread); an error is answered with jobs.ErrorMessage(err).
	Run func(ctx context.Context, m *Mention) (Answer, error)
}

// Mention is a parsed "@cla …" with who said it and where.
type Mention struct {
	In      *Incoming
	Command Command
	Actor   jobs.Identity
	// Job is the job bound to the channel the mention was typed in, or nil.
	Job *jobs.Job
}

// Answer is what the bot says back to a command.
type Answer struct {
	Text string
	// Thread posts the answer for everyone in the mention's thread instead
	// of ephemerally to the person who asked.
	Thread bool
}

// AddCommand adds (or replaces) a mention command. Call it before Run.
func (b *Bot) AddCommand(c CommandSpec) {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := strings.ToLower(c.Name)
	if _, ok := b.commands[name]; !ok {
		b.order = append(b.order, name)
	}
	b.commands[name] = c
}

// command looks a verb up in the table.
func (b *Bot) command(name string) (CommandSpec, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.commands[name]
	return c, ok
}

// handleMention parses a mention, runs its command and answers.
func (b *Bot) handleMention(ctx context.Context, in *Incoming) {
	cmd, err := ParseMention(in.Text, b.self.get())
	if err != nil {
		cmd = Command{Name: "help"}
	}
	actor, known := b.actor(ctx, in.User)
	m := &Mention{In: in, Command: cmd, Actor: actor}
	if job, err := b.svc.JobForChannel(ctx, in.Channel); err == nil {
		m.Job = job
	} else if jobs.ErrorCode(err) != jobs.ENOTFOUND {
		b.log.Warn("channel lookup failed", "channel", in.Channel, "err", err)
	}
	spec, ok := b.command(cmd.Name)
	if !ok {
		spec, _ = b.command("help")
	}
	if !known && (spec.Use == 0 || spec.Use >= people.Act) {
		b.answer(ctx, in, Answer{Text: "Sorry, I could not look you up in Slack; please try again."}, nil)
		return
	}
	if no := b.people.Refusal(m.Actor, spec.Use); no != "" {
		b.answer(ctx, in, Answer{Text: "⚠️ " + no}, nil)
		return
	}
	ans, err := spec.Run(ctx, m)
	if err == nil && !ok && cmd.Name != "" {
		ans.Text = fmt.Sprintf("I don't know %s.\n%s", escape(strconv.Quote(cmd.Name)), ans.Text)
	}
	b.answer(ctx, in, ans, err)
}

// builtinCommands is the command table the bot starts with.
func builtinCommands(b *Bot) []CommandSpec {
	cmds := []CommandSpec{
		{Name: "help", Usage: "help", Help: "this list", Run: b.cmdHelp, Use: people.Read},
		{Name: "add", Usage: "add #job-<id>", Help: "create or bind the job's channel (or use `@cla add` inside it)", Run: b.cmdAdd, Use: people.Act},
		{Name: "status", Usage: "status [job]", Help: "the job's status and open gate", Run: b.cmdStatus, Use: people.Read},
		{Name: "note", Usage: "note <text>", Help: "add a comment to the channel's job", Run: b.cmdNote, Use: people.Talk},
	}
	for _, a := range []jobs.Action{jobs.ActComplete, jobs.ActFail, jobs.ActApprove, jobs.ActReject, jobs.ActResume,
		jobs.ActRetry, jobs.ActSkip, jobs.ActAbort} {
		kind, _ := jobs.KindOf(a)
		cmds = append(cmds, CommandSpec{Name: string(a), Usage: string(a) + " [message]",
			Help: fmt.Sprintf("%s the open %s gate of the channel's job", a, kind), Run: b.resolver(a), Use: people.Act})
	}
	return cmds
}

// cmdHelp lists the command table.
func (b *Bot) cmdHelp(_ context.Context, _ *Mention) (Answer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	sb.WriteString("Things you can ask me:\n")
	for _, name := range b.order {
		c := b.commands[name]
		fmt.Fprintf(&sb, "• `@cla %s` — %s\n", escape(c.Usage), escape(c.Help))
	}
	return Answer{Text: strings.TrimRight(sb.String(), "\n")}, nil
}

// cmdStatus tells the state of the channel's job, or of the job named.
func (b *Bot) cmdStatus(ctx context.Context, m *Mention) (Answer, error) {
	job := m.Job
	if len(m.Command.Args) > 0 {
		var err error
		if job, err = b.svc.GetJob(ctx, m.Command.Args[0].Text); err != nil {
			return Answer{}, err
		}
	}
	if job == nil {
		return Answer{}, errNotBound("status")
	}
	return Answer{Text: jobSummary(job, b.cfg.PublicURL)}, nil
}

// cmdNote adds a comment annotation to the channel's job.
func (b *Bot) cmdNote(ctx context.Context, m *Mention) (Answer, error) {
	if m.Job == nil {
		return Answer{}, errNotBound("note")
	}
	_, err := b.svc.Annotate(ctx, m.Actor, jobs.ViaSlack, m.Job.ID,
		jobs.NewAnnotation{Kind: jobs.AnnotationComment, Text: m.Command.Text})
	if err != nil {
		return Answer{}, err
	}
	return Answer{Text: "Noted on job " + m.Job.ID + "."}, nil
}

// resolver returns the command that resolves the channel job's open gate.
func (b *Bot) resolver(a jobs.Action) func(context.Context, *Mention) (Answer, error) {
	return func(ctx context.Context, m *Mention) (Answer, error) {
		if m.Job == nil {
			return Answer{}, errNotBound(string(a))
		}
		r := jobs.Resolution{Action: a, Message: m.Command.Text, SlackUserID: m.In.User, SlackChannelID: m.In.Channel}
		if a == jobs.ActComplete && r.Message != "" {
			r.Evidence = &jobs.Evidence{Message: r.Message}
		}
		job, gate, err := b.svc.Resolve(ctx, m.Actor, jobs.ViaSlack, m.Job.ID, r)
		if err != nil {
			return Answer{}, err
		}
		return Answer{Text: resolvedText(m.In.User, a, job, gate), Thread: true}, nil
	}
}

// errNotBound answers a command that needs a job channel.
func errNotBound(cmd string) error {
	return jobs.Errorf(jobs.EINVALID, "`@cla %s` works in a job channel, and this channel is not bound to a job. "+
		"Bind it with `@cla add #job-<id>`.", cmd)
}
