package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hail"
	"hail/notify"
	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// The stream is a hail extension of TAXII 2.1, which reserves channels for
// publish and subscribe but does not specify them (TAXII 2.1 §6):
//
//	GET {api-root}/collections/{id}/stream/
//
// answers text/event-stream (the WHATWG HTML "server-sent events" format),
// with the keys and read rights of Get Objects. Each event is one object
// version:
//
//	id: 2025-05-01T10:00:00.000123Z      the version's date_added
//	event: object
//	data: {"type":"indicator",…}         the object, on one line
//
// The id is the position a TAXII poller would send as added_after, so a
// client may switch between polling and streaming without loss. A client
// resumes with the Last-Event-ID header (EventSource sends it on its own),
// ?after= or ?added_after=: it first receives every entry it missed, from
// the store, then live ones, each exactly once, since date_added is unique
// and increasing. Without a position a stream starts at the collection's
// newest entry: only objects added from then on are sent. It then opens
// with an event of id alone ("id: …" and a blank line), which sets the
// client's Last-Event-ID without delivering anything, so that a client that
// reconnects before the first object still misses nothing.
//
// The store is the source of truth. A stream reads it when a commit wakes
// it (Config.Notifier), and every StreamConfig.Poll anyway, which covers
// writers that do not notify (hail import runs in another process).
// Comment lines (": ping") every StreamConfig.Heartbeat keep proxies from
// closing an idle stream.
//
// Events are written from the handler straight to the connection; nothing
// queues on the server for a slow client. A client that does not take a
// batch within StreamConfig.WriteTimeout is disconnected and resumes from
// its last event id when it reconnects, so it never slows writers or other
// streams.

// Defaults applied to the zero fields of StreamConfig.
const (
	DefaultStreamHeartbeat    = 15 * time.Second
	DefaultStreamPoll         = 2 * time.Second
	DefaultStreamWriteTimeout = 30 * time.Second
	DefaultStreamBatch        = 500
)

// StreamConfig tunes the stream endpoint. The zero value is usable.
type StreamConfig struct {
	// Heartbeat is the interval of the comment lines sent while nothing
	// else is (DefaultStreamHeartbeat when 0).
	Heartbeat time.Duration
	// Poll is how often a stream reads the store without being woken
	// (DefaultStreamPoll when 0). It bounds the delay of objects added
	// without a notification.
	Poll time.Duration
	// WriteTimeout is how long a client may take to receive one batch of
	// events before it is disconnected (DefaultStreamWriteTimeout when 0).
	WriteTimeout time.Duration
	// Batch is the most entries read from the store, and written before a
	// flush, at once (DefaultStreamBatch when 0).
	Batch int
}

// streamParams are the query parameters a stream honours: those of Get
// Objects but limit, next and match[version]; a stream sends every version.
var streamParams = []string{paramAddedAfter, paramID, paramType, paramSpecVersion}

// paramAfter is a shorter added_after for streams.
const paramAfter = "after"

// errStreamNotAcceptable answers a stream request whose Accept header
// refuses text/event-stream.
var errStreamNotAcceptable = &transportError{http.StatusNotAcceptable,
	"The stream sends " + eventStreamType + "; the Accept header must admit it."}

const eventStreamType = "text/event-stream"

// initStream applies the stream defaults and makes the server's store
// announce its commits to cfg.Notifier, so that every write path of the
// server wakes the streams.
func (s *Server) initStream() {
	c := &s.cfg.Stream
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultStreamHeartbeat
	}
	if c.Poll <= 0 {
		c.Poll = DefaultStreamPoll
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultStreamWriteTimeout
	}
	if c.Batch <= 0 || c.Batch > store.MaxLimit {
		c.Batch = DefaultStreamBatch
	}
	if s.cfg.Notifier == nil {
		s.cfg.Notifier = notify.NewHub()
	}
	s.store = publishingStore{Store: s.store, notifier: s.cfg.Notifier, logger: s.logger}
}

// publishingStore is a store that announces each commit of new object
// versions to a notifier.
type publishingStore struct {
	store.Store
	notifier notify.Notifier
	logger   *slog.Logger
}

// AddObjects adds objects, then wakes the streams if any version was new.
// A failed notification is logged, not returned: the objects are stored,
// and streams find them at their next poll.
func (p publishingStore) AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	res, err := p.Store.AddObjects(ctx, collectionID, objs)
	return p.published(ctx, collectionID, res, err)
}

// AddObjectsStatus is AddObjects with the request's status stored in the
// same transaction.
func (p publishingStore) AddObjectsStatus(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	res, err := p.Store.AddObjectsStatus(ctx, collectionID, objs, status)
	return p.published(ctx, collectionID, res, err)
}

// published wakes the streams of collectionID after a call that stored
// new versions, and returns the call's outcome.
func (p publishingStore) published(ctx context.Context, collectionID string, res []store.AddResult, err error) ([]store.AddResult, error) {
	if err != nil || !slices.ContainsFunc(res, func(r store.AddResult) bool { return !r.Duplicate }) {
		return res, err
	}
	// The request may end now that the commit is done; its streams should
	// still hear of it.
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := p.notifier.Publish(nctx, collectionID); err != nil {
		p.logger.WarnContext(ctx, "notify streams", "collection", collectionID, "err", err)
	}
	return res, nil
}

// isStream reports whether r asks for a stream. The TAXII negotiation,
// which would refuse text/event-stream, leaves those requests to
// handleStreamGet.
func isStream(r *http.Request) bool {
	parts := strings.Split(strings.Trim(cleanPath(r.URL.Path), "/"), "/")
	return len(parts) == 5 && parts[0] == "taxii2" && parts[2] == "collections" && parts[4] == "stream"
}

// handleStreamGet serves a collection's stream: the entries after the
// client's position, then each new one as it is committed, until the
// client leaves or the notifier closes (server shutdown).
func (s *Server) handleStreamGet(w http.ResponseWriter, r *http.Request) {
	if !acceptsEventStream(strings.Join(r.Header.Values("Accept"), ",")) {
		s.error(w, r, errStreamNotAcceptable)
		return
	}
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f, err := s.streamFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Subscribe before the first read, so that no commit falls between the
	// read and the wait.
	topic := c.ID
	if c.Kind == store.KindFilter {
		topic = notify.AnyCollection
	}
	sub := s.cfg.Notifier.Subscribe(topic)
	defer sub.Close()
	if f.AddedAfter.IsZero() {
		last, err := s.store.LastDateAdded(r.Context(), c.ID)
		if err != nil {
			s.error(w, r, err)
			return
		}
		f.AddedAfter = last
	}
	h := w.Header()
	h.Set("Content-Type", eventStreamType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on, do not buffer them
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	err = s.stream(w, r, c, f, sub)
	if err != nil && r.Context().Err() == nil && !errors.Is(err, errClientGone) && !errors.Is(err, errStreamEnd) {
		// The status is sent; all that is left is to log and hang up. The
		// client resumes from its last event id.
		s.logger.ErrorContext(r.Context(), "stream failed", "path", r.URL.Path, "err", err)
	}
}

// errClientGone reports a write that failed: the client left or did not
// read in time.
var errClientGone = errors.New("stream client gone")

// stream writes events until the client leaves or the notifier closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, c store.Collection, f store.Filter, sub *notify.Subscription) error {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// The server's own deadlines are meant for requests, not for a response
	// that lasts; send takes over, one deadline per write.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	send := func(b []byte) error {
		rc.SetWriteDeadline(time.Now().Add(s.cfg.Stream.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return errClientGone
		}
		if err := rc.Flush(); err != nil {
			return errClientGone
		}
		return nil
	}
	var open []byte
	if !f.AddedAfter.IsZero() {
		open = appendPosition(open, f.AddedAfter)
	}
	if err := send(append(open, ":\n\n"...)); err != nil {
		return err
	}
	poll := time.NewTicker(s.cfg.Stream.Poll)
	defer poll.Stop()
	heartbeat := time.NewTicker(s.cfg.Stream.Heartbeat)
	defer heartbeat.Stop()
	ri := info(ctx)
	key := readKey{collection: c.ID, filter: filterKey(f)}
	s.reads.open(key)
	defer s.reads.leave(key)
	// A read may be shared only if it started after woken: after the
	// subscription, then after the latest wake-up was sent, so that it sees
	// the commits that caused it.
	woken := time.Now()
	for {
		rd, err := s.reads.do(ctx, key, f.AddedAfter, woken, func(ctx context.Context) (streamRead, error) {
			page, err := s.store.Objects(ctx, c.ID, f)
			return encodePage(page), err
		})
		if err != nil {
			return err
		}
		if rd.n > 0 {
			if err := send(rd.events); err != nil {
				return err
			}
			f.AddedAfter = rd.last
			ri.objects += rd.n
			ri.lastAdded = rd.last
			heartbeat.Reset(s.cfg.Stream.Heartbeat)
			if rd.more {
				continue
			}
		}
		if woken, err = s.wait(ctx, sub, poll, heartbeat, send); err != nil {
			return err
		}
	}
}

// errStreamEnd ends a stream without failure: the client left or the
// notifier closed.
var errStreamEnd = errors.New("stream ended")

// wait returns when the stream should read the store again, and the time
// after which that read must start; it sends heartbeats meanwhile.
func (s *Server) wait(ctx context.Context, sub *notify.Subscription, poll, heartbeat *time.Ticker, send func([]byte) error) (time.Time, error) {
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, errStreamEnd
		case _, ok := <-sub.C():
			if !ok {
				return time.Time{}, errStreamEnd
			}
			return sub.Woken(), nil
		case <-poll.C:
			return time.Now(), nil
		case <-heartbeat.C:
			if err := send([]byte(": ping\n\n")); err != nil {
				return time.Time{}, err
			}
		}
	}
}

// streamRead is one page of a stream, encoded.
type streamRead struct {
	events []byte // the entries as events
	n      int    // how many
	last   time.Time
	more   bool
}

// encodePage encodes a page as events.
func encodePage(p store.Page) streamRead {
	rd := streamRead{n: len(p.Entries), more: p.More}
	if rd.n == 0 {
		return rd
	}
	size := 0
	for _, e := range p.Entries {
		size += len(e.Object.Raw) + 64
	}
	rd.events = make([]byte, 0, size)
	for _, e := range p.Entries {
		rd.events = appendEvent(rd.events, e)
	}
	rd.last = p.Entries[rd.n-1].DateAdded
	return rd
}

// filterKey is the part of a stream's filter that makes its reads differ
// from another's at the same position.
func filterKey(f store.Filter) string {
	return strings.Join(f.IDs, ",") + "\x00" + strings.Join(f.Types, ",") + "\x00" + strings.Join(f.SpecVersions, ",")
}

// readKey names the streams whose reads at one position return the same
// page: those of one collection and filter.
type readKey struct {
	collection string
	filter     string
}

// readGroup lets streams with the same key share reads of the store. When
// a commit wakes a thousand streams at the same position, the store
// answers a few queries rather than a thousand, and the events are encoded
// once. The zero value is ready for use.
type readGroup struct {
	mu   sync.Mutex
	keys map[readKey]*readShare
}

// readShare is what the streams of one key share: the latest read.
type readShare struct {
	streams int // open streams with this key; the share goes with the last
	call    *readCall
}

// readCall is one read; done is closed when rd and err are set.
type readCall struct {
	after   time.Time // the position read from
	started time.Time
	done    chan struct{}
	rd      streamRead
	err     error
}

// open registers a stream of key; close it with leave.
func (g *readGroup) open(key readKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys == nil {
		g.keys = map[readKey]*readShare{}
	}
	sh := g.keys[key]
	if sh == nil {
		sh = &readShare{}
		g.keys[key] = sh
	}
	sh.streams++
}

// leave ends a stream of key.
func (g *readGroup) leave(key readKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if sh := g.keys[key]; sh != nil {
		if sh.streams--; sh.streams == 0 {
			delete(g.keys, key)
		}
	}
}

// do returns the page after position after for an open key. It shares the
// latest read of the key, in progress or done, if that read is from the
// same position and started after since, so that it saw every commit
// before since; otherwise it reads with read. The read runs without the
// caller's cancellation, since others may wait for it; the caller stops
// waiting when ctx ends.
func (g *readGroup) do(ctx context.Context, key readKey, after, since time.Time, read func(context.Context) (streamRead, error)) (streamRead, error) {
	g.mu.Lock()
	sh := g.keys[key]
	if c := sh.call; c != nil && c.after.Equal(after) && c.started.After(since) {
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.rd, c.err
		case <-ctx.Done():
			return streamRead{}, errStreamEnd
		}
	}
	c := &readCall{after: after, started: time.Now(), done: make(chan struct{})}
	sh.call = c // an older call keeps its waiters
	g.mu.Unlock()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	c.rd, c.err = read(rctx)
	cancel()
	if c.err != nil {
		g.mu.Lock()
		if sh.call == c {
			sh.call = nil // a later stream tries again rather than share the failure
		}
		g.mu.Unlock()
	}
	close(c.done)
	return c.rd, c.err
}

// streamFilter reads the stream's filters and the client's position: the
// latest of Last-Event-ID, after and added_after. A zero AddedAfter means
// none was given.
func (s *Server) streamFilter(r *http.Request) (store.Filter, error) {
	q, err := s.parseQuery(r.URL.RawQuery, streamParams)
	if err != nil {
		return store.Filter{}, err
	}
	f := q.Filter
	f.Limit = s.cfg.Stream.Batch
	f.Versions = []string{"all"}
	positions := []struct{ name, value string }{
		{"Header \"Last-Event-ID\"", r.Header.Get("Last-Event-ID")},
		{"Parameter \"after\"", r.URL.Query().Get(paramAfter)},
	}
	for _, p := range positions {
		if p.value == "" {
			continue
		}
		t, err := parsePosition(p.value)
		if err != nil {
			return store.Filter{}, hail.Errorf(hail.EINVALID, "%s is not a timestamp: %q.", p.name, p.value)
		}
		if t.After(f.AddedAfter) {
			f.AddedAfter = t
		}
	}
	return f, nil
}

// appendPosition appends an event of id alone: it moves the client's
// Last-Event-ID to t and dispatches nothing (HTML §9.2.6: an event with an
// empty data buffer is not fired, but its id is kept).
func appendPosition(b []byte, t time.Time) []byte {
	b = append(b, "id: "...)
	b = append(b, taxii.FormatTimestamp(t)...)
	return append(b, "\n\n"...)
}

// appendEvent appends one entry as an event. The object's bytes are sent as
// received, except that line breaks, which end a data line, become spaces:
// in valid JSON they can only be whitespace between tokens.
func appendEvent(b []byte, e store.Entry) []byte {
	b = append(b, "id: "...)
	b = e.DateAdded.UTC().AppendFormat(b, taxii.TimestampLayout) // taxii.FormatTimestamp, without allocating
	b = append(b, "\nevent: object\ndata: "...)
	start := len(b)
	b = append(b, e.Object.Raw...)
	if bytes.IndexByte(b[start:], '\n') >= 0 || bytes.IndexByte(b[start:], '\r') >= 0 {
		for i := start; i < len(b); i++ {
			if b[i] == '\r' || b[i] == '\n' {
				b[i] = ' '
			}
		}
	}
	return append(b, "\n\n"...)
}

// acceptsEventStream reports whether an Accept header value admits
// text/event-stream. No header admits anything (RFC 9110 §12.5.1).
func acceptsEventStream(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for item := range strings.SplitSeq(header, ",") {
		typ, params, _ := strings.Cut(item, ";")
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case eventStreamType, "text/*", "*/*":
		default:
			continue
		}
		if qvalue(params) > 0 {
			return true
		}
	}
	return false
}

// qvalue returns the q parameter of a media range's parameters, 1 when
// absent or malformed.
func qvalue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
				return f
			}
		}
	}
	return 1
}
