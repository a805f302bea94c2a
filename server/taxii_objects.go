package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"hail/jsonscan"
	"io"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// handleObjectsGet serves Get Objects (TAXII 2.1 §5.4): one envelope page.
func (s *Server) handleObjectsGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := s.parseQuery(r.URL.RawQuery, collectionParams)
	if err != nil {
		s.error(w, r, err)
		return
	}
	b := newListBody()
	defer b.release()
	more, err := s.store.ObjectsRaw(r.Context(), c.ID, q.Filter, b.addObject)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, q, more, "objects", b)
}

// handleObjectGet serves Get An Object (TAXII 2.1 §5.6): the versions of one
// object that match[version] selects (the latest by default), as an envelope.
func (s *Server) handleObjectGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := s.parseQuery(r.URL.RawQuery, objectParams)
	if err == nil {
		q, err = objectQuery(r, q)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	b := newListBody()
	defer b.release()
	more, err := s.store.ObjectsRaw(r.Context(), c.ID, q.Filter, b.addObject)
	if err == nil {
		err = objectFound(r, q, b.n)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, q, more, "objects", b)
}

// objectPage reads a page of one object's entries (see objectQuery and
// objectFound).
func (s *Server) objectPage(r *http.Request, c store.Collection, q query) (store.Page, error) {
	q, err := objectQuery(r, q)
	if err != nil {
		return store.Page{}, err
	}
	page, err := s.store.Objects(r.Context(), c.ID, q.Filter)
	if err == nil {
		err = objectFound(r, q, len(page.Entries))
	}
	return page, err
}

// objectQuery restricts q to the object named in the path; a malformed id
// names no object.
func objectQuery(r *http.Request, q query) (query, error) {
	oid := r.PathValue("oid")
	if !stix.ValidID(oid) {
		return q, objectNotFound(oid)
	}
	q.IDs = []string{oid}
	return q, nil
}

// objectFound reports whether a page of n entries of one object shows it.
// An object with nothing to show is 404, unless the request continues from
// a position (added_after or next): then an empty page is the answer, not
// the object's absence.
func objectFound(r *http.Request, q query, n int) error {
	if n == 0 && !q.Positioned {
		return objectNotFound(r.PathValue("oid"))
	}
	return nil
}

// objectNotFound is the error for an object the collection does not hold.
func objectNotFound(oid string) error {
	return hail.Errorf(hail.ENOTFOUND, "Object %q not found.", oid)
}

// handleObjectDelete serves Delete An Object (TAXII 2.1 §5.7): it removes the
// versions that match[version] and match[spec_version] select, every
// version when neither is given.
func (s *Server) handleObjectDelete(w http.ResponseWriter, r *http.Request) {
	c, err := s.deletableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := s.parseQuery(r.URL.RawQuery, deleteParams)
	if err != nil {
		s.error(w, r, err)
		return
	}
	oid := r.PathValue("oid")
	err = objectNotFound(oid)
	if stix.ValidID(oid) {
		f := store.Filter{Versions: q.Versions, SpecVersions: q.SpecVersions}
		if err = s.store.DeleteObject(r.Context(), c.ID, oid, f); hail.ErrorCode(err) == hail.ENOTFOUND {
			err = objectNotFound(oid)
		}
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleObjectsPost serves Add Objects (TAXII 2.1 §5.5). Each object is
// checked on its own: the invalid ones are listed as failures in the status,
// the valid ones are stored together, with the status, in one transaction.
// The work is done before answering, so the status is already complete.
func (s *Server) handleObjectsPost(w http.ResponseWriter, r *http.Request) {
	requested := s.cfg.Now()
	c, err := s.writableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !acceptableContentType(r.Header.Get("Content-Type")) {
		s.error(w, r, errUnsupportedType)
		return
	}
	raws, err := s.readEnvelope(w, r, c)
	if err != nil {
		s.error(w, r, err)
		return
	}
	info(r.Context()).objects = len(raws)
	head := store.Status{ID: uuid.NewString(), APIRoot: c.APIRoot, CollectionID: c.ID, RequestTimestamp: requested}
	st, err := s.addObjects(r, c, raws, head)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.purgeStatuses(r)
	writeJSON(w, http.StatusAccepted, statusResource(st))
}

// readEnvelope reads the body of Add Objects, an envelope, within the API
// root's max_content_length: 413 when the declared length is above it,
// before reading, or when a body of undeclared length grows past it.
func (s *Server) readEnvelope(w http.ResponseWriter, r *http.Request, c store.Collection) ([]json.RawMessage, error) {
	root, err := s.store.APIRoot(r.Context(), c.APIRoot)
	if err != nil {
		return nil, err
	}
	limit := s.maxContentLength(root)
	tooLarge := hail.Errorf(hail.ETOOLARGE, "The request body is larger than max_content_length (%d bytes).", limit)
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return decodeEnvelope(body)
}

// decodeEnvelope returns the objects of an envelope. A body that is not
// JSON is hail.EINVALID (400); JSON that is not an envelope (an object with
// an "objects" list) is hail.EUNPROCESSABLE (422), the status TAXII 2.1 §5.5
// gives content the server understands but cannot process.
func decodeEnvelope(body []byte) ([]json.RawMessage, error) {
	if !jsonscan.Valid(body) {
		return nil, hail.Errorf(hail.EINVALID, "The request body is not valid JSON.")
	}
	notEnvelope := hail.Errorf(hail.EUNPROCESSABLE, "The request body is not a TAXII envelope: a JSON object with an \"objects\" list.")
	var objects []byte // the last "objects" member, as encoding/json would take it
	if !jsonscan.Members(body, func(name, v []byte) bool {
		if string(name) == "objects" {
			objects = v
		}
		return true
	}) {
		return nil, notEnvelope
	}
	raws, ok := jsonscan.Array(objects)
	if !ok {
		return nil, notEnvelope
	}
	return raws, nil
}

// addObjects parses and validates each object, stores the valid ones and
// the request's status (head, completed) in one transaction, and returns
// the status. A version the collection already holds, or that the
// envelope repeats, is a success: TAXII 2.1 §5.5 forbids reporting an
// error for a duplicate.
func (s *Server) addObjects(r *http.Request, c store.Collection, raws []json.RawMessage, head store.Status) (store.Status, error) {
	st := head
	st.Status, st.Total = taxii.StatusComplete, len(raws)
	valid := make([]stix.Object, 0, len(raws))
	type version struct {
		id string
		ns int64
	}
	seen := make(map[version]bool, len(raws))
	for _, raw := range raws {
		o, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(o)
		}
		if err != nil {
			st.Failures = append(st.Failures, store.StatusDetail{ID: o.ID, Version: o.VersionString(), Message: hail.ErrorMessage(err)})
			continue
		}
		v := version{o.ID, o.Version.UnixNano()}
		if seen[v] {
			st.Successes = append(st.Successes, store.StatusDetail{ID: o.ID, Version: o.VersionString(), Message: "Repeated in the envelope."})
			continue
		}
		seen[v] = true
		valid = append(valid, o)
	}
	if len(valid) == 0 {
		return st, s.store.CreateStatus(r.Context(), st)
	}
	// The status is stored with the objects, in their transaction; it is
	// made of the results there, each time the transaction runs.
	checked := st
	status := func(results []store.AddResult) store.Status {
		st := checked
		st.Successes = slices.Clone(checked.Successes)
		for i, res := range results[:min(len(results), len(valid))] {
			d := store.StatusDetail{ID: valid[i].ID, Version: valid[i].VersionString()}
			if d.Version == "" {
				d.Version = taxii.FormatTimestamp(res.DateAdded)
			}
			if res.Duplicate {
				d.Message = "Already in the collection."
			}
			st.Successes = append(st.Successes, d)
		}
		return st
	}
	results, err := s.store.AddObjectsStatus(r.Context(), c.ID, valid, status)
	if err != nil {
		return st, err
	}
	if len(results) != len(valid) {
		return st, fmt.Errorf("add objects: store returned %d results for %d objects", len(results), len(valid))
	}
	for _, res := range results {
		if !res.Duplicate {
			info(r.Context()).ingested++
		}
	}
	return status(results), nil
}
