package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"hail"
)

// FuzzUploadedFile checks that any multipart body either gives a file with
// bounded fields or is refused with EINVALID or as over the limit, and
// that merging its fields into a query never loses a query parameter.
func FuzzUploadedFile(f *testing.F) {
	const boundary = "b0undary"
	for _, s := range []string{
		"--b0undary\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\ndrop\r\n" +
			"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.txt\"\r\n\r\n203.0.113.1\n\r\n--b0undary--\r\n",
		"--b0undary\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\nA\r\n" +
			"--b0undary\r\nContent-Disposition: form-data; name=\"source\"\r\n\r\nB\r\n--b0undary--\r\n",
		"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\nid,url\r\n",
		"--b0undary--\r\n",
		"no parts at all",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/import", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		up, err := uploadedFile(httptest.NewRecorder(), r, 1<<16)
		if err != nil {
			var mbe *http.MaxBytesError
			if hail.ErrorCode(err) != hail.EINVALID && !errors.As(err, &mbe) {
				t.Fatalf("uploadedFile: %v, want EINVALID or over the limit", err)
			}
			return
		}
		if up.Content == nil || len(up.Fields) > maxFormFields {
			t.Fatalf("uploadedFile = %+v: no content or too many fields", up)
		}
		for k, vs := range up.Fields {
			for _, v := range vs {
				if len(v) > maxFormField {
					t.Fatalf("field %q of %d bytes", k, len(v))
				}
			}
		}
		io.Copy(io.Discard, up.Content)
		q := url.Values{"collection": {"drop"}}
		if err := mergeFields(q, up.Fields); err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("mergeFields: %v, want EINVALID", err)
			}
			return
		}
		if q.Get("collection") != "drop" {
			t.Fatalf("merged collection %q, want the query's", q.Get("collection"))
		}
	})
}
