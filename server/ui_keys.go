package server

// The admin pages of keys: consumers (every key with what it polled), and
// making and revoking keys. Admin keys only; another key is told 404, as for
// a collection it may not see.

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/auth"
	"hail/limit"
	"hail/store"
)

// uiConsumer is one key on the consumers page.
type uiConsumer struct {
	Name, Rights, Plan, RevokeLink string
	Created, Expires               time.Time
	Revoked                        time.Time
	LastRequest, LastPoll          time.Time
	Polls24h, Objects24h           int64
	Errors                         int64
	Stale, Expired, Unused         bool
	Summaries                      []string
}

// uiConsumers is the view of the consumers page.
type uiConsumers struct {
	Keys   []uiConsumer
	Window string
}

// uiAdmin refuses a page to a key that is not an admin's.
func (s *Server) uiAdmin(w http.ResponseWriter, r *http.Request) bool {
	k := s.uiKey(w, r)
	if k == nil {
		return false
	}
	if !k.Admin {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "No dashboard page at this path."))
		return false
	}
	return true
}

// uiKeys lists every key with its rights, plan and the activity the store
// holds for it: when it last asked and polled, and a summary per
// collection. Activity a replica still holds in memory is not included.
func (s *Server) uiKeys(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	ctx := r.Context()
	keys, err := s.store.Keys(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	names, err := s.collectionNames(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	now := s.cfg.Now()
	since := now.Add(-activityWindow)
	v := uiConsumers{Window: strconv.Itoa(int(activityWindow/time.Hour)) + " hours"}
	for _, k := range keys {
		c := uiConsumer{Name: k.Name, Rights: rightsText(k, names), Plan: cmp.Or(k.Plan, store.UnrestrictedPlan), RevokeLink: uiKeyLink(k.Name) + "revoke",
			Created: k.Created, Expires: k.Expires, Revoked: k.Revoked,
			Expired: !k.Expires.IsZero() && !now.Before(k.Expires)}
		acts, err := s.store.Activity(ctx, k.Name, since)
		if err != nil {
			s.error(w, r, err)
			return
		}
		total := limit.Total(acts)
		c.LastRequest, c.LastPoll = total.Last, total.LastPoll
		c.Polls24h, c.Objects24h = total.Recent.Polls, total.Recent.Objects
		for _, n := range total.Errors {
			c.Errors += n
		}
		for _, a := range acts {
			c.Summaries = append(c.Summaries, limit.Describe(a, cmp.Or(names[a.Collection], a.Collection), activityWindow))
		}
		c.Unused = len(acts) == 0
		if k.Plan != "" {
			if p, err := s.plan(r, k.Plan); err == nil {
				c.Stale = limit.Stale(acts, p, now)
			}
		}
		v.Keys = append(v.Keys, c)
	}
	s.render(w, r, http.StatusOK, "keys", "Consumers", "keys", v)
}

// rightsText says what a key may do, with collections by name.
func rightsText(k store.Key, names map[string]string) string {
	if k.Admin {
		return "admin"
	}
	list := func(ids []string) string {
		var out []string
		for _, id := range ids {
			if id == store.AllCollections {
				out = append(out, "every collection")
				continue
			}
			out = append(out, cmp.Or(names[id], id))
		}
		slices.Sort(out)
		return strings.Join(out, ", ")
	}
	var parts []string
	if len(k.Read) > 0 {
		parts = append(parts, "reads "+list(k.Read))
	}
	if len(k.Write) > 0 {
		parts = append(parts, "writes "+list(k.Write))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

// uiKeyForm is the view of the new-key page: the form, or the key made.
type uiKeyForm struct {
	Collections []uiKeyChoice
	Plans       []string
	Message     string
	// Name and Secret are set once the key is made: the secret is shown
	// on this answer only.
	Name, Secret, RootURL string
}

// uiKeyChoice is one collection a new key may be given rights on.
type uiKeyChoice struct {
	ID, Label   string
	Writable    bool
	Read, Write bool
}

// uiKeyFormView lists the collections and plans for the new-key form.
func (s *Server) uiKeyFormView(r *http.Request) (uiKeyForm, error) {
	var v uiKeyForm
	cols, err := s.allCollections(r.Context())
	if err != nil {
		return v, err
	}
	for _, c := range cols {
		v.Collections = append(v.Collections, uiKeyChoice{ID: c.ID, Label: collectionLabel(c), Writable: c.Writable()})
	}
	plans, err := s.store.Plans(r.Context())
	if err != nil {
		return v, err
	}
	for _, p := range plans {
		v.Plans = append(v.Plans, p.Name)
	}
	return v, nil
}

// uiKeyNew shows the form for a new key.
func (s *Server) uiKeyNew(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	v, err := s.uiKeyFormView(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "keynew", "New key", "keys", v)
}

// maxKeyForm bounds the new-key form's body.
const maxKeyForm = 64 << 10

// uiKeyCreate makes a key from the form, as `hail key add` does, and shows
// its secret once.
func (s *Server) uiKeyCreate(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxKeyForm)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, hail.Errorf(hail.EINVALID, "The form could not be read."))
		return
	}
	v, err := s.uiKeyFormView(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := r.PostForm
	name := strings.TrimSpace(f.Get("name"))
	read, write := f["read"], f["write"]
	for i := range v.Collections {
		c := &v.Collections[i]
		c.Read, c.Write = slices.Contains(read, c.ID), slices.Contains(write, c.ID)
	}
	fail := func(status int, msg string) {
		v.Message = msg
		s.render(w, r, status, "keynew", "New key", "keys", v)
	}
	known := func(ids []string, writable bool) bool {
		for _, id := range ids {
			ok := slices.ContainsFunc(v.Collections, func(c uiKeyChoice) bool { return c.ID == id && (c.Writable || !writable) })
			if !ok {
				return false
			}
		}
		return true
	}
	now := s.cfg.Now()
	k := store.Key{ID: uuid.NewString(), Name: name, Admin: f.Get("admin") == "on", Read: read, Write: write, Created: now,
		Plan: f.Get("plan")}
	switch {
	case name == "":
		fail(http.StatusBadRequest, "Give the key a name: who holds it, as logs and the consumers page show it.")
		return
	case len(name) > 200:
		fail(http.StatusBadRequest, "The name is longer than 200 characters.")
		return
	case !known(read, false) || !known(write, true):
		fail(http.StatusBadRequest, "A collection chosen does not exist, or cannot be written to (a filter collection).")
		return
	case k.Plan != "" && !slices.Contains(v.Plans, k.Plan):
		fail(http.StatusBadRequest, "The plan chosen does not exist.")
		return
	case !k.Admin && len(read) == 0 && len(write) == 0:
		fail(http.StatusBadRequest, "Give the key at least one right: a collection to read or write, or admin.")
		return
	}
	if days := f.Get("expires_days"); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			fail(http.StatusBadRequest, "Expires after must be a number of days from 1 to 3650, or empty for never.")
			return
		}
		k.Expires = now.Add(time.Duration(n) * 24 * time.Hour)
	}
	secret, hash := auth.NewKey()
	k.Hash = hash
	if err := s.store.CreateKey(r.Context(), k); err != nil {
		if hail.ErrorCode(err) == hail.ECONFLICT {
			fail(http.StatusConflict, "A key with this name exists already.")
			return
		}
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "dashboard: key created", "key", k.Name, "admin", k.Admin, "by", requestKey(r.Context()).Name)
	v.Name, v.Secret, v.RootURL = k.Name, secret, s.baseURL(r)+"/taxii2/"
	s.render(w, r, http.StatusCreated, "keynew", "New key", "keys", v)
}

// uiKeyRevokeView is the view of the revoke confirmation page.
type uiKeyRevokeView struct{ Name, Action string }

// uiKeyRevokeConfirm asks before a key is revoked: consumers using it
// stop at their next request.
func (s *Server) uiKeyRevokeConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	k, err := s.keyNamed(r, r.PathValue("name"))
	if err == nil && !k.Revoked.IsZero() {
		err = hail.Errorf(hail.ENOTFOUND, "Key %q is revoked already.", k.Name)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "keyrevoke", "Revoke "+k.Name, "keys", uiKeyRevokeView{Name: k.Name, Action: uiKeyLink(k.Name) + "revoke"})
}

// uiKeyRevoke revokes a key, as `hail key revoke` does.
func (s *Server) uiKeyRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	name := r.PathValue("name")
	if err := s.store.RevokeKey(r.Context(), name); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "dashboard: key revoked", "key", name, "by", requestKey(r.Context()).Name)
	http.Redirect(w, r, uiPrefix+"keys", http.StatusSeeOther)
}

// uiKeyLink is the dashboard path of key name's actions.
func uiKeyLink(name string) string { return uiPrefix + "keys/" + url.PathEscape(name) + "/" }
