package web

import (
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/cla-ops/cla/jobs"
)

// annotationBodyLimit is the request body that can carry a file of max
// bytes: base64 grows it by 4/3, plus room for the JSON around it.
func annotationBodyLimit(maxFile int) int64 {
	return int64(maxFile)/3*4 + 64<<10
}

// annotationContent answers GET /v1/jobs/{id}/annotations/{n}/content: a
// file annotation's bytes, always as a download (Content-Disposition:
// attachment, nosniff), so that an uploaded page never renders in cla's
// origin.
func (s *Server) annotationContent(w http.ResponseWriter, r *http.Request, _ caller) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		s.writeError(w, r, jobs.Errorf(jobs.EINVALID, "annotation number %q must be a whole number from 1", r.PathValue("n")))
		return
	}
	ref, content, err := s.svc.AnnotationContent(r.Context(), r.PathValue("id"), n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctype := ref.ContentType
	if _, _, perr := mime.ParseMediaType(ctype); ctype == "" || perr != nil {
		ctype = http.DetectContentType(content)
	}
	name := ref.Name
	if name == "" {
		name = "annotation-" + strconv.Itoa(n)
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Length", strconv.Itoa(len(content)))
	if err := SendChunked(w, content, s.sendTimeout); err != nil {
		s.log.Debug("download cut off", "err", err)
	}
}

// sendChunk is how much of a download one write deadline covers.
const sendChunk = 64 << 10

// SendChunked writes a large answer in 64 KiB chunks, each within timeout
// (DefaultSendTimeout when zero): a client that stops reading is cut off
// instead of holding the handler and the bytes for as long as it keeps the
// connection; a slow reader that keeps reading gets everything. The web
// monitor's downloads use it too.
func SendChunked(w http.ResponseWriter, content []byte, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultSendTimeout
	}
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	for len(content) > 0 {
		n := min(len(content), sendChunk)
		if err := rc.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			_, err = w.Write(content)
			return err
		}
		if _, err := w.Write(content[:n]); err != nil {
			return err
		}
		content = content[n:]
	}
	return nil
}
