package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"hail"
)

// Forms of STIX input, as reported in Source.Form.
const (
	FormBundle   = "bundle"   // {"type":"bundle","id":…,"objects":[…]} (STIX 2.0 and 2.1)
	FormEnvelope = "envelope" // a TAXII 2.1 envelope: {"more":…,"objects":[…]}
	FormArray    = "array"    // a bare JSON array of objects
	FormObject   = "object"   // a single object
)

// Source describes the container the objects are being read from.
type Source struct {
	Form string // one of the Form constants
	ID   string // the bundle's id
	// SpecVersion is the bundle's spec_version: "2.0" for STIX 2.0 bundles,
	// whose objects stix.Convert20 turns into 2.1, and "" when absent (STIX
	// 2.1 bundles have none). Some producers write it after the objects; it
	// is then known only once Next returns io.EOF, so a caller that must
	// decide earlier decides per object (a 2.0 object has no spec_version).
	SpecVersion string
}

// SyntaxError reports input that is not what Reader expects. Offset counts
// bytes from the start of the input: it is the offending byte, or the end of
// the input when the input stops short.
type SyntaxError struct {
	Offset int64
	Msg    string
}

// Error describes the problem and where it is.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("STIX input at byte %d: %s", e.Offset, e.Msg)
}

// Unwrap gives the error a hail.EINVALID code, so that every edge reports it
// as the user's mistake.
func (e *SyntaxError) Unwrap() error {
	return hail.Errorf(hail.EINVALID, "Malformed STIX input at byte %d: %s.", e.Offset, e.Msg)
}

// Reader reads STIX objects one at a time from a bundle, a TAXII envelope, a
// JSON array of objects or a single object, or from a sequence of these (as
// in newline-delimited JSON). Memory is bounded by the largest object, not by
// the input: objects are decoded one by one as the input streams past.
type Reader struct {
	dec   *json.Decoder
	rec   *recorder
	bom   int64 // bytes of a UTF-8 byte order mark skipped before dec's input
	state int
	src   Source
	begun bool // a top-level value was read
	err   error
}

// Reader states: where the decoder stands in the input.
const (
	atTop      = iota // between top-level values
	inArray           // inside a top-level array
	inObjects         // inside the "objects" array of a bundle or envelope
	afterArray        // after the "objects" array, in the container's remaining keys
)

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader) *Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	var bom int64
	if b, _ := br.Peek(3); bytes.HasPrefix(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		bom = int64(len(utf8BOM))
	}
	rec := &recorder{r: br}
	dec := json.NewDecoder(rec)
	dec.UseNumber() // a number skipped token by token is never parsed: 1e999 is no error of range
	return &Reader{dec: dec, rec: rec, bom: bom}
}

// Source describes the container read so far.
func (r *Reader) Source() Source { return r.src }

// Next returns the next object's bytes, exactly as they appear in the input.
// Elements of an objects array are returned whatever their JSON type, for the
// caller's validation (stix.Parse) to reject. At the end of the input it
// returns io.EOF. Malformed input gives a *SyntaxError (hail.EINVALID), after
// which Next returns the same error.
func (r *Reader) Next() (json.RawMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	raw, err := r.next()
	if err != nil {
		r.err = err
	}
	return raw, err
}

func (r *Reader) next() (json.RawMessage, error) {
	for {
		switch r.state {
		case atTop:
			r.rec.start(r.dec)
			tok, err := r.dec.Token()
			if err == io.EOF {
				if !r.begun {
					return nil, &SyntaxError{Offset: r.bom, Msg: "no JSON value"}
				}
				return nil, io.EOF
			}
			if err != nil {
				return nil, r.syntaxError(err)
			}
			r.begun = true
			switch tok {
			case json.Delim('['):
				r.rec.stop()
				r.src = Source{Form: FormArray}
				r.state = inArray
			case json.Delim('{'):
				raw, err := r.objectHead()
				if err != nil || raw != nil {
					return raw, err
				}
			default:
				return nil, &SyntaxError{Offset: r.offset(), Msg: "expected a JSON object or array"}
			}
		case inArray, inObjects:
			if r.dec.More() {
				var raw json.RawMessage
				if err := r.dec.Decode(&raw); err != nil {
					return nil, r.valueError(err)
				}
				return raw, nil
			}
			if _, err := r.dec.Token(); err != nil { // the closing ']'
				return nil, r.syntaxError(err)
			}
			if r.state == inArray {
				r.state = atTop
			} else {
				r.state = afterArray
			}
		case afterArray:
			done, err := r.containerKeys()
			if err != nil {
				return nil, err
			}
			if done {
				r.state = atTop
			}
		}
	}
}

// objectHead reads the keys of a top-level object until it can tell what
// the object is. At an "objects" array in a bundle or envelope it switches to
// inObjects and returns nil; at the end of a single object it returns the
// object's bytes, recorded as the decoder read them.
func (r *Reader) objectHead() (json.RawMessage, error) {
	start := r.dec.InputOffset() - 1
	var typ, id, spec string
	var sawType, sawID, sawObjects bool
	var other []string // the first keys that are no envelope's
	for r.dec.More() {
		key, err := r.key()
		if err != nil {
			return nil, err
		}
		if !envelopeKey(key) && len(other) < 3 {
			other = append(other, key)
		}
		switch key {
		case "objects":
			sawObjects = true
			tok, err := r.dec.Token()
			if err != nil {
				return nil, r.syntaxError(err)
			}
			// Only a bundle or a typeless envelope holds an objects array; a
			// custom object may have a property of that name.
			if tok == json.Delim('[') && (!sawType || typ == "bundle") && (!sawID || hasPrefix(id, "bundle--")) {
				r.rec.stop()
				r.src = Source{Form: FormEnvelope, ID: id, SpecVersion: spec}
				if sawType || sawID {
					r.src.Form = FormBundle
				}
				r.state = inObjects
				return nil, nil
			}
			if d, ok := tok.(json.Delim); ok {
				if err := r.skipRest(d); err != nil {
					return nil, err
				}
			}
		case "type", "id", "spec_version":
			var s string
			if err := r.dec.Decode(&s); err != nil {
				if err = r.valueError(err); errors.As(err, new(*SyntaxError)) {
					return nil, err
				}
				// A non-string value: not a bundle, and for the caller's
				// validation to reject.
				s = "\x00"
			}
			switch key {
			case "type":
				typ, sawType = s, true
			case "id":
				id, sawID = s, true
			default:
				spec = s
			}
		default:
			if err := r.skipValue(); err != nil {
				return nil, err
			}
		}
	}
	if _, err := r.dec.Token(); err != nil { // the closing '}'
		return nil, r.syntaxError(err)
	}
	if !sawType && !sawID && !sawObjects && len(other) > 0 {
		// Not an empty envelope, which holds only "more" and "next": some
		// other JSON document, which would otherwise import as nothing.
		return nil, &SyntaxError{Offset: r.bom + start, Msg: notSTIX(other)}
	}
	if !sawType && !sawID || typ == "bundle" {
		// An envelope or bundle without objects: TAXII omits "objects"
		// when there are none (TAXII 2.1 §3.7).
		r.src = Source{Form: FormEnvelope, ID: id, SpecVersion: spec}
		if typ == "bundle" {
			r.src.Form = FormBundle
		}
		return nil, nil
	}
	r.src = Source{Form: FormObject}
	raw := r.rec.slice(start, r.dec.InputOffset())
	return raw, nil
}

// envelopeKey reports whether an empty envelope may hold key: its own
// properties and custom ones (x_, as STIX names them).
func envelopeKey(key string) bool {
	switch key {
	case "more", "next", "objects", "spec_version":
		return true
	}
	return strings.HasPrefix(key, "x_")
}

// notSTIX says why a JSON object with keys is neither a STIX object nor a
// container of them, and what it may be instead.
func notSTIX(keys []string) string {
	msg := fmt.Sprintf(`a JSON object with no "type", "id" or "objects" is no STIX bundle, TAXII envelope or STIX object (its keys include %q)`, keys)
	for _, k := range keys {
		if k == "Event" || k == "response" {
			return msg + "; it looks like a MISP event, which MISP exports as STIX 2.1 for hail to import"
		}
	}
	return msg + "; an IOC list in JSON imports as json-list"
}

// containerKeys reads one key after a container's objects array (some STIX
// 2.0 producers write spec_version there) and reports whether the container
// has ended.
func (r *Reader) containerKeys() (bool, error) {
	if !r.dec.More() {
		if _, err := r.dec.Token(); err != nil {
			return false, r.syntaxError(err)
		}
		return true, nil
	}
	key, err := r.key()
	if err != nil {
		return false, err
	}
	if key == "spec_version" || key == "id" {
		var s string
		if err := r.dec.Decode(&s); err != nil {
			if err = r.valueError(err); errors.As(err, new(*SyntaxError)) {
				return false, err
			}
		}
		if key == "id" {
			r.src.ID = s
		} else {
			r.src.SpecVersion = s
		}
		return false, nil
	}
	if key == "type" && r.src.Form == FormEnvelope {
		r.src.Form = FormBundle
	}
	return false, r.skipValue()
}

func (r *Reader) key() (string, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return "", r.syntaxError(err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", &SyntaxError{Offset: r.offset(), Msg: "expected an object key"}
	}
	return key, nil
}

// skipValue skips one value token by token, so that a huge property of a
// container costs no memory.
func (r *Reader) skipValue() error {
	tok, err := r.dec.Token()
	if err != nil {
		return r.syntaxError(err)
	}
	if d, ok := tok.(json.Delim); ok {
		return r.skipRest(d)
	}
	return nil
}

// skipRest skips the rest of the array or object opened by d.
func (r *Reader) skipRest(d json.Delim) error {
	depth := 1
	for depth > 0 {
		tok, err := r.dec.Token()
		if err != nil {
			return r.syntaxError(err)
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

func (r *Reader) offset() int64 { return r.bom + r.dec.InputOffset() }

// syntaxError turns a decoder error into a *SyntaxError at the offending
// byte. The decoder reports errors it finds between values at InputOffset,
// but errors inside a value that it decodes (Decode, and Token for strings,
// numbers and literals) at a count of only the bytes it decoded so far. For
// those, the failed value, which the decoder still holds from InputOffset
// on, is scanned again from its start.
func (r *Reader) syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		if se.Offset != r.dec.InputOffset() {
			var raw json.RawMessage
			var again *json.SyntaxError
			if err := json.NewDecoder(r.dec.Buffered()).Decode(&raw); errors.As(err, &again) {
				return &SyntaxError{Offset: r.offset() + again.Offset - 1, Msg: again.Error()}
			}
		}
		return &SyntaxError{Offset: r.bom + se.Offset, Msg: se.Error()}
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return &SyntaxError{Offset: r.bom + r.rec.n, Msg: "unexpected end of input"}
	}
	return fmt.Errorf("read STIX input: %w", err)
}

// valueError is syntaxError for Decode into a string, which also fails on a
// value of another JSON type; that error is returned as it is.
func (r *Reader) valueError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return err
	}
	return r.syntaxError(err)
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }

// recorder keeps the bytes a json.Decoder reads while recording is on, so
// that a single top-level object can be returned exactly as it was written
// although the decoder consumed it token by token.
type recorder struct {
	r    io.Reader
	on   bool
	buf  []byte
	base int64 // input offset of buf[0]
	n    int64 // bytes read so far
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	if rc.on {
		rc.buf = append(rc.buf, p[:n]...)
	}
	rc.n += int64(n)
	return n, err
}

// start begins recording at the decoder's position, taking in what the
// decoder has read ahead but not consumed.
func (rc *recorder) start(dec *json.Decoder) {
	rc.on = true
	rc.buf = rc.buf[:0]
	rc.base = dec.InputOffset()
	buffered, _ := io.ReadAll(dec.Buffered())
	rc.buf = append(rc.buf, buffered...)
}

func (rc *recorder) stop() {
	rc.on = false
	rc.buf = rc.buf[:0]
}

// slice returns a copy of the input between two offsets.
func (rc *recorder) slice(from, to int64) json.RawMessage {
	return bytes.Clone(rc.buf[from-rc.base : to-rc.base])
}

// ReadObjects calls fn for each object in r (see Reader), stopping at the
// first error fn returns and returning it unchanged. Malformed input gives a
// *SyntaxError (hail.EINVALID) after the objects before it have been passed
// to fn.
func ReadObjects(r io.Reader, fn func(raw json.RawMessage) error) error {
	sr := NewReader(r)
	for {
		raw, err := sr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
}
