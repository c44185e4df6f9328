package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// maxParallelDownloads bounds the Slack file downloads running at once.
const maxParallelDownloads = 2

// downloadTimeout bounds one file download.
const downloadTimeout = 2 * time.Minute

// errSignIn says Slack answered a download with its HTML sign-in page: the
// token was refused (or lacks files:read). Slack sends it with status 200.
var errSignIn = errors.New("slack answered with its sign-in page instead of the file (check the bot token and the files:read scope)")

// keepFiles downloads, in the background, the files of newly mirrored
// messages and attaches them to the job as file annotations (via slack).
// Only entries the store added are handled, so a redelivered share is not
// downloaded again; the annotation key guards the rest.
func (b *Bot) keepFiles(ctx context.Context, job string, items []mirrorItem, added []jobs.LogEntry) {
	fresh := map[string]bool{}
	for _, e := range added {
		fresh[e.Key] = true
	}
	for _, it := range items {
		in := it.in
		if len(in.Files) == 0 || in.Subtype == "message_deleted" || in.Subtype == "message_changed" ||
			!fresh["slack:"+in.Channel+":"+in.TS] {
			continue
		}
		actor := jobs.Identity{Name: b.actorName(ctx, in.User, in.BotID)}
		for _, f := range in.Files {
			// The mirror worker never waits for a download: it must go on
			// acking messages. Each download waits for a slot instead.
			b.fileWork.Go(func() {
				select {
				case b.downloads <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-b.downloads }()
				b.keepFile(ctx, job, actor, in, f)
			})
		}
	}
}

// keepFile downloads one file and annotates the job with it, or with its
// metadata and permalink when it is over the cap or the download fails;
// the log says which.
func (b *Bot) keepFile(ctx context.Context, job string, actor jobs.Identity, in *Incoming, f File) {
	limit := b.svc.MaxChatFileBytes()
	a := jobs.NewAnnotation{Kind: jobs.AnnotationFile, Name: f.Name, ContentType: f.Mimetype, Permalink: f.Permalink,
		Key:  "slack-file:" + in.Channel + ":" + in.TS + ":" + f.ID,
		Data: map[string]any{"size": f.Size, "slackFile": f.ID, "ts": in.TS}}
	var content []byte
	var err error
	switch {
	case f.Size > limit:
		a.Text = fmt.Sprintf("%s is %s, over the %s cap for files from Slack: kept its name, size and link only",
			f.Name, jobs.ByteSize(f.Size), jobs.ByteSize(limit))
	case f.URLPrivateDownload == "":
		a.Text = fmt.Sprintf("%s was not downloaded: Slack gave no download link; kept its name, size and link only", f.Name)
	default:
		content, err = b.download(ctx, f, limit)
		switch {
		case errors.Is(err, errTooBig):
			a.Text = fmt.Sprintf("%s is over the %s cap for files from Slack: kept its name, size and link only", f.Name, jobs.ByteSize(limit))
		case err != nil:
			a.Text = fmt.Sprintf("%s could not be downloaded from Slack: %v; kept its name, size and link only", f.Name, err)
			b.log.Warn("slack file download failed", "job", job, "file", f.ID, "err", err)
		default:
			a.Content = content
		}
	}
	if ctx.Err() != nil {
		return
	}
	if _, err := b.svc.Annotate(ctx, actor, jobs.ViaSlack, job, a); err != nil {
		b.log.Error("keep slack file", "job", job, "file", f.ID, "err", err)
	}
}

// errTooBig says a download grew past the cap although Slack said less.
var errTooBig = errors.New("file over the cap")

// download fetches url_private_download with the bot token. It refuses
// Slack's HTML sign-in page (status 200, text/html, for a bad token),
// answers other than 200, and files that grow past limit.
func (b *Bot) download(ctx context.Context, f File, limit int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URLPrivateDownload, nil)
	if err != nil {
		return nil, fmt.Errorf("bad download link: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+b.cfg.BotToken)
	resp, err := b.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("download: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("slack answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if len(body) > limit {
		return nil, errTooBig
	}
	if signInPage(resp.Header.Get("Content-Type"), f.Mimetype, body) {
		return nil, errSignIn
	}
	if f.Size > 0 && len(body) != f.Size {
		return nil, fmt.Errorf("slack sent %d bytes of a %d-byte file", len(body), f.Size)
	}
	return body, nil
}

// signInPage tells Slack's sign-in page from a file: an HTML answer for a
// file that is not HTML, or an HTML file that looks like a page of Slack's
// own.
func signInPage(contentType, fileMime string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "text/html" && !bytes.HasPrefix(bytes.TrimSpace(bytes.ToLower(body[:min(len(body), 64)])), []byte("<!doctype html")) {
		return false
	}
	if !strings.HasPrefix(fileMime, "text/html") {
		return true
	}
	low := bytes.ToLower(body)
	return bytes.Contains(low, []byte("slack")) && bytes.Contains(low, []byte("sign in"))
}

// httpClient is the client downloads use: Config.HTTPClient or a default.
func (b *Bot) httpClient() *http.Client {
	if b.cfg.HTTPClient != nil {
		return b.cfg.HTTPClient
	}
	return http.DefaultClient
}
