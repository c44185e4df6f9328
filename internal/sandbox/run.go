package sandbox

import (
	"context"
	"time"

	"github.com/cla-ops/cla/slackemu"
)

// Run keeps the workspace saved (at start, at most every SaveEvery after a
// change, and once more at the end), trims what the emulator records, and
// plays the demo pipeline, until ctx ends. The change signal is taken
// before each save reads the workspace, so every change is in a save:
// changes made before Run started (the seed, a first upload) and changes
// made while a burst settles (they used to wait for some later change).
func (p *Page) Run(ctx context.Context) error {
	demoDone := make(chan struct{})
	go func() {
		defer close(demoDone)
		p.runDemo(ctx)
	}()
	defer func() { <-demoDone }()
	p.removeTemp() // left by a process killed during a save
	defer func() {
		p.save()
		p.removeTemp()
	}()
	for {
		p.emu.Trim(keepRecords)
		changed := p.emu.Changed()
		p.save()
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		select { // let a burst of changes settle into one write
		case <-ctx.Done():
			return nil
		case <-time.After(p.cfg.SaveEvery):
		}
	}
}

// save writes the snapshot; a failure is logged and retried at the next
// change.
func (p *Page) save() {
	if p.cfg.StatePath == "" {
		return
	}
	if err := p.emu.SaveFile(p.cfg.StatePath); err != nil {
		p.log.Error("save sandbox workspace", "path", p.cfg.StatePath, "err", err)
	}
}

// removeTemp deletes the temporary files of saves that never finished; it
// runs only while no save is running (before the first, after the last).
func (p *Page) removeTemp() {
	if p.cfg.StatePath == "" {
		return
	}
	n, err := slackemu.RemoveTemp(p.cfg.StatePath)
	if err != nil {
		p.log.Warn("remove unfinished sandbox saves", "path", p.cfg.StatePath, "err", err)
	}
	if n > 0 {
		p.log.Info("removed unfinished sandbox saves", "path", p.cfg.StatePath, "files", n)
	}
}
