package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"hail"
)

// uploadedFile returns the content a POST carries, held to limit bytes: the
// body itself, or, for a form upload (curl -F file=@list.txt, a browser's
// form), its first file part, with the file's name. A form's other fields
// are passed over: the import's parameters are in the query string.
func uploadedFile(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, string, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return body, "", nil
	}
	if params["boundary"] == "" {
		return nil, "", hail.Errorf(hail.EINVALID, "The multipart/form-data body names no boundary.")
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", hail.Errorf(hail.EINVALID, "The form holds no file: send it as a file field (curl -F file=@list.txt) or as the body itself.")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", err
		}
		if err != nil {
			return nil, "", hail.Errorf(hail.EINVALID, "The multipart/form-data body does not parse: %v.", err)
		}
		if p.FileName() != "" {
			return p, p.FileName(), nil
		}
	}
}
