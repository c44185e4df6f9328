package monitor

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cla-ops/cla/jobs"
)

// Paging of the jobs list. A filtered view ("waiting on me", a name search)
// reads the status indexes page by page and keeps what matches; one request
// reads at most scanBudget jobs, then offers to continue where it stopped.
// Variables so that tests can make them small.
var (
	pageSize   = 50
	scanPage   = 100
	scanBudget = 1000
)

// listView is the jobs list page.
type listView struct {
	Rows    []listRow
	Status  string
	Mine    bool
	Query   string
	Next    string
	First   string
	Scanned int
	Partial bool // a filter stopped at the scan budget: more may match
}

// listRow is one job in the list, with its open gate when a person is
// needed.
type listRow struct {
	Job  *jobs.Job
	Gate *jobs.Gate
	Mine bool
}

// list serves "/": newest first, filtered by status, "waiting on me" and a
// search by id (exact, redirects) or name (substring, within the scanned
// jobs).
func (m *Monitor) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lv := &listView{Status: q.Get("status"), Mine: q.Get("mine") == "1", Query: strings.TrimSpace(q.Get("q"))}
	if lv.Status != "" && !jobs.Status(lv.Status).Valid() {
		m.errorPage(w, r, http.StatusBadRequest, "Unknown status "+strconv.Quote(lv.Status)+".")
		return
	}
	if id := strings.ToLower(lv.Query); jobs.ValidID(id) && q.Get("cursor") == "" {
		if _, err := m.svc.GetJob(r.Context(), id); err == nil {
			http.Redirect(w, r, "/jobs/"+id, http.StatusSeeOther)
			return
		}
	}
	v := viewerOf(r.Context())
	statuses, keep := lv.filter(v.Identity)
	cur, err := parseScanCursor(q.Get("cursor"), len(statuses))
	if _, ok := mineOffset(cur); err == nil && lv.Mine && !ok {
		err = jobs.Errorf(jobs.EINVALID, "bad cursor")
	}
	if err != nil {
		m.errorPage(w, r, http.StatusBadRequest, "That page link is not valid; start from the first page.")
		return
	}
	scan := m.scan
	if lv.Mine {
		scan = m.mine
	}
	next, err := scan(r.Context(), lv, statuses, cur, keep, v.Identity)
	if err != nil {
		m.domainError(w, r, err)
		return
	}
	lv.links(next, cur.String() != "")
	d := page(r, "Jobs")
	d.List = lv
	m.render(w, r, http.StatusOK, "list", d)
}

// filter returns the status indexes to read and the test a job must pass.
func (lv *listView) filter(id jobs.Identity) ([]jobs.Status, func(*jobs.Job) bool) {
	statuses := []jobs.Status{jobs.Status(lv.Status)}
	needle := strings.ToLower(lv.Query)
	keep := func(j *jobs.Job) bool {
		return needle == "" || strings.Contains(strings.ToLower(j.Name), needle) || strings.Contains(j.ID, needle)
	}
	if !lv.Mine {
		return statuses, keep
	}
	statuses = nil
	for _, s := range []jobs.Status{jobs.StatusActionRequired, jobs.StatusAwaitingApproval, jobs.StatusPaused} {
		if lv.Status == "" || lv.Status == string(s) {
			statuses = append(statuses, s)
		}
	}
	return statuses, func(j *jobs.Job) bool { return j.WaitsOn(id) && keep(j) }
}

// scan reads the status indexes from the cursor on and fills the rows. It
// reads whole store pages, so the cursor it returns never skips a job.
func (m *Monitor) scan(ctx context.Context, lv *listView, statuses []jobs.Status, cur scanCursor,
	keep func(*jobs.Job) bool, id jobs.Identity) (scanCursor, error) {
	filtered := lv.Mine || lv.Query != ""
	limit := pageSize
	if filtered {
		limit = scanPage
	}
	for cur.Index < len(statuses) && len(lv.Rows) < pageSize && lv.Scanned < scanBudget {
		pg, err := m.svc.ListJobs(ctx, jobs.ListQuery{Status: statuses[cur.Index], Limit: limit, Cursor: cur.Store})
		if err != nil {
			return cur, err
		}
		lv.Scanned += len(pg.Jobs)
		for _, j := range pg.Jobs {
			if keep(j) {
				lv.Rows = append(lv.Rows, row(j, id))
			}
		}
		cur.Store = pg.Next
		if pg.Next == "" {
			cur.Index++
		}
		if !filtered {
			break
		}
	}
	lv.Partial = filtered && cur.Index < len(statuses) && len(lv.Rows) < pageSize
	sort.SliceStable(lv.Rows, func(a, b int) bool { return lv.Rows[a].Job.CreatedAt.After(lv.Rows[b].Job.CreatedAt) })
	if cur.Index >= len(statuses) {
		return scanCursor{}, nil
	}
	return cur, nil
}

// mine fills the rows of "waiting on me" from the store's assignee index:
// it reads the gates waiting on this person only, never the open gates of
// everyone, so it needs no scan budget. Its cursor is an offset into them.
func (m *Monitor) mine(ctx context.Context, lv *listView, statuses []jobs.Status, cur scanCursor,
	keep func(*jobs.Job) bool, id jobs.Identity) (scanCursor, error) {
	offset, ok := mineOffset(cur)
	if !ok {
		return cur, jobs.Errorf(jobs.EINVALID, "bad cursor")
	}
	waiting, err := m.svc.WaitingOn(ctx, id, 0)
	if err != nil {
		return cur, err
	}
	lv.Scanned = len(waiting)
	var matched []*jobs.Job
	for _, j := range waiting {
		if slices.Contains(statuses, j.Status) && keep(j) {
			matched = append(matched, j)
		}
	}
	offset = min(offset, len(matched))
	end := min(offset+pageSize, len(matched))
	for _, j := range matched[offset:end] {
		lv.Rows = append(lv.Rows, row(j, id))
	}
	if end < len(matched) {
		return scanCursor{Store: strconv.Itoa(end)}, nil
	}
	return scanCursor{}, nil
}

// mineOffset reads the offset a "waiting on me" cursor carries.
func mineOffset(cur scanCursor) (int, bool) {
	if cur.Store == "" {
		return 0, true
	}
	n, err := strconv.Atoi(cur.Store)
	return n, err == nil && n >= 0
}

func row(j *jobs.Job, id jobs.Identity) listRow {
	r := listRow{Job: j, Mine: j.WaitsOn(id)}
	if j.Status.Waiting() {
		r.Gate = j.OpenGate()
	}
	return r
}

// links builds the next and first page addresses, keeping the filters.
func (lv *listView) links(next scanCursor, paged bool) {
	q := url.Values{}
	if lv.Status != "" {
		q.Set("status", lv.Status)
	}
	if lv.Mine {
		q.Set("mine", "1")
	}
	if lv.Query != "" {
		q.Set("q", lv.Query)
	}
	if paged {
		lv.First = "/?" + q.Encode()
	}
	if s := next.String(); s != "" {
		q.Set("cursor", s)
		lv.Next = "/?" + q.Encode()
	}
}

// scanCursor is a position in the sequence of status indexes: which index,
// and the store's cursor within it.
type scanCursor struct {
	Index int
	Store string
}

// String implements fmt.Stringer (and flag.Value).
func (c scanCursor) String() string {
	if c.Index == 0 && c.Store == "" {
		return ""
	}
	return strconv.Itoa(c.Index) + "~" + c.Store
}

func parseScanCursor(s string, n int) (scanCursor, error) {
	if s == "" {
		return scanCursor{}, nil
	}
	idx, store, ok := strings.Cut(s, "~")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= n {
		return scanCursor{}, jobs.Errorf(jobs.EINVALID, "bad cursor")
	}
	return scanCursor{Index: i, Store: store}, nil
}
