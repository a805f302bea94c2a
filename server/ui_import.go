package server

// The admin import page: a file or pasted text into an explicit collection,
// through the import API's own code (import.go).

import "net/http"

// uiImportView is the view of the import page: the form, and after a POST
// what the import did.
type uiImportView struct {
	Collections []uiChoice
	Result      *importJSON
}

// uiImportForm lists the explicit collections an import may go into.
func (s *Server) uiImportForm(r *http.Request, chosen string) (uiImportView, error) {
	var v uiImportView
	cols, err := s.readableCollections(r.Context(), requestKey(r.Context()))
	if err != nil {
		return v, err
	}
	for _, c := range cols {
		if !c.Writable() {
			continue
		}
		v.Collections = append(v.Collections, uiChoice{Value: c.ID, Label: collectionLabel(c), Selected: c.ID == chosen})
	}
	return v, nil
}

// uiImport shows the import form.
func (s *Server) uiImport(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	v, err := s.uiImportForm(r, r.URL.Query().Get("collection"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "import", "Import", "import", v)
}

// uiImportPost imports what the form sends, a file or pasted text, as
// POST /api/v1/import does, and shows the summary with the form again.
func (s *Server) uiImportPost(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	out, err := s.importUpload(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.uiImportForm(r, out.collectionID) // the form again, into the same collection
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Result = &out
	s.logger.InfoContext(r.Context(), "dashboard: import", "format", out.Format, "added", out.Added, "rejected", out.Rejected,
		"by", requestKey(r.Context()).Name)
	s.render(w, r, http.StatusOK, "import", "Import", "import", v)
}
