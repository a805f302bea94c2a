package client

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hail"
	"hail/taxii"
)

// codeForStatus maps an HTTP error status to a hail code: the inverse of
// server/error.go's table. Statuses without a hail code of their own fall
// back by class: a 4xx is the request's fault, a 5xx the server's.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return hail.EINVALID
	case http.StatusUnauthorized:
		return hail.EUNAUTHENTICATED
	case http.StatusForbidden:
		return hail.EFORBIDDEN
	case http.StatusNotFound:
		return hail.ENOTFOUND
	case http.StatusConflict:
		return hail.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		return hail.ETOOLARGE
	case http.StatusUnprocessableEntity:
		return hail.EUNPROCESSABLE
	case http.StatusTooManyRequests:
		return hail.ETOOMANY
	case http.StatusServiceUnavailable:
		return hail.EUNAVAILABLE
	}
	if status >= 400 && status < 500 {
		return hail.EINVALID
	}
	return hail.EINTERNAL
}

// maxErrorBody is how much of an error response is read: an error resource
// is small, and a proxy's HTML page need not be read whole.
const maxErrorBody = 64 << 10

// responseError turns an error response into a *hail.Error. The message is
// the TAXII error resource's title and description (TAXII 2.1 §3.6.1);
// a body that is not one, such as a proxy's HTML page, gives the status
// text instead.
func responseError(resp *http.Response) *hail.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return errorFromBody(resp.StatusCode, body)
}

// errorFromBody builds the error for a response of that status and body.
func errorFromBody(status int, body []byte) *hail.Error {
	var e taxii.Error
	var msg string
	if json.Unmarshal(body, &e) == nil {
		msg = joinMessage(e.Title, e.Description)
	}
	if msg == "" {
		msg = "The server answered " + strconv.Itoa(status) + " " + http.StatusText(status) + "."
		if said := plainSnippet(body); said != "" {
			msg += " It said: " + said
		}
	}
	return &hail.Error{Code: codeForStatus(status), Message: msg}
}

// maxSnippet bounds what plainSnippet keeps of a body, in runes.
const maxSnippet = 200

// plainSnippet returns the first line of a plain-text error body, such as
// a Python server's "KeyError: 'limit'", for the operator who reads a
// feed's last error; "" for an empty body, a JSON one and markup, such as
// a proxy's HTML page. Control characters become spaces, so that a body
// cannot write to a terminal.
func plainSnippet(body []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '<' || line[0] == '{' || line[0] == '[' || !utf8.ValidString(line) {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range line {
		if n == maxSnippet {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// joinMessage joins a title and a description as sentences.
func joinMessage(title, description string) string {
	title, description = strings.TrimSpace(title), strings.TrimSpace(description)
	switch {
	case title == "" || description == title:
		return description
	case description == "":
		return title
	}
	if !strings.HasSuffix(title, ".") && !strings.HasSuffix(title, "!") && !strings.HasSuffix(title, "?") {
		title += "."
	}
	return title + " " + description
}
