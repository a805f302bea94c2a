package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"

	"hail"
)

// Bounds on a form's fields before its file: the import's parameters are
// short, and a field is read whole.
const (
	maxFormField  = 4 << 10
	maxFormFields = 64
)

// contentField is the form field that carries the content as text, read
// like a file part: a browser sends an empty file part for a file input
// left empty, so the dashboard's form puts its file input first and its
// text field after it.
const contentField = "content"

// upload is what a POST to the import carries.
type upload struct {
	// Content is the body itself or, for a form upload, its first file
	// part; Name is that file's name.
	Content io.Reader
	Name    string
	// Fields are the form's fields before its file part (nil for a plain
	// body): curl and browsers send them in the form's order, so
	// `curl -F collection=x -F file=@list.txt` carries the parameters
	// first. Fields after the file would need the file read first; they
	// are not read.
	Fields url.Values
}

// uploadedFile returns the content a POST carries, held to limit bytes: the
// body itself, or, for a form upload (curl -F file=@list.txt, a browser's
// form), its first file part or its content field (text pasted into the
// dashboard's import form), with the file's name and the fields sent
// before it.
func uploadedFile(w http.ResponseWriter, r *http.Request, limit int64) (upload, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return upload{Content: body}, nil
	}
	if params["boundary"] == "" {
		return upload{}, hail.Errorf(hail.EINVALID, "The multipart/form-data body names no boundary.")
	}
	mr := multipart.NewReader(body, params["boundary"])
	fields := url.Values{}
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return upload{}, hail.Errorf(hail.EINVALID, "The form holds no file: send it as a file field (curl -F file=@list.txt) or as the body itself.")
		}
		if err != nil {
			return upload{}, formError(err)
		}
		if p.FileName() != "" || p.FormName() == contentField {
			return upload{Content: p, Name: p.FileName(), Fields: fields}, nil
		}
		if n >= maxFormFields {
			return upload{}, hail.Errorf(hail.EINVALID, "The form has more than %d fields before its file.", maxFormFields)
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFormField+1))
		if err != nil {
			return upload{}, formError(err)
		}
		if len(v) > maxFormField {
			return upload{}, hail.Errorf(hail.EINVALID, "Form field %q is longer than %d bytes.", truncate(p.FormName(), 32), maxFormField)
		}
		fields.Add(p.FormName(), string(v))
	}
}

// formError is err from reading a form: as it is when the body went over
// its limit (the caller answers 413), else EINVALID.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return hail.Errorf(hail.EINVALID, "The multipart/form-data body does not parse: %v.", err)
}

// mergeFields adds a form's fields to query, the query string's parameters. A parameter
// given in both, or twice in the form, is refused rather than one of its
// values chosen.
func mergeFields(query, fields url.Values) error {
	for k, vs := range fields {
		if len(vs) > 1 {
			return hail.Errorf(hail.EINVALID, "Form field %q is given %d times.", truncate(k, 32), len(vs))
		}
		if query.Has(k) && query.Get(k) != vs[0] {
			return hail.Errorf(hail.EINVALID, "Parameter %q is given in both the query string and the form, with different values.", truncate(k, 32))
		}
		query.Set(k, vs[0])
	}
	return nil
}
