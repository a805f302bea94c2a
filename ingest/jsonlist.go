package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"hail"
)

// maxJSONDepth bounds how deep a JSON IOC list nests, so that a hostile
// one cannot exhaust the stack.
const maxJSONDepth = 64

// readJSONList reads an IOC list published as JSON: any document whose
// objects hold an indicator under a key that names one, as a CSV header
// does (iocColumns): abuse.ch's exports ({"<id>": [{"ioc_value": …}]},
// [{"ip_address": …}], {"data": [{"sha256_hash": …}]}), Spamhaus's DROP in
// JSON lines ({"cidr": …}). Each such object is one record: its indicator
// keys give the indicators and its other scalar keys their Fields. Records
// are numbered from 1 in place of lines. Objects nest in any way; memory
// is bounded by the largest record.
func readJSONList(br *bufio.Reader, fn func(IOC) error, bad func(int, string, string)) error {
	dec := json.NewDecoder(br)
	dec.UseNumber()
	w := jsonWalker{dec: dec, fn: fn, bad: bad}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return jsonListError(err)
		}
		if err := w.value(tok, 0); err != nil {
			return err
		}
	}
}

type jsonWalker struct {
	dec     *json.Decoder
	fn      func(IOC) error
	bad     func(int, string, string)
	records int
}

// value walks the value that tok opens.
func (w *jsonWalker) value(tok json.Token, depth int) error {
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar outside any record
	}
	if depth >= maxJSONDepth {
		return hail.Errorf(hail.EINVALID, "The JSON list nests deeper than %d levels.", maxJSONDepth)
	}
	if d == '[' {
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return jsonListError(err)
			}
			if err := w.value(tok, depth+1); err != nil {
				return err
			}
		}
		_, err := w.dec.Token()
		return jsonListError(err)
	}
	// An object: its scalars are a record; its objects and arrays are
	// walked in turn.
	var keys []string
	cells := map[string]string{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return jsonListError(err)
		}
		key, _ := tok.(string)
		if tok, err = w.dec.Token(); err != nil {
			return jsonListError(err)
		}
		switch v := tok.(type) {
		case json.Delim:
			if err := w.value(v, depth+1); err != nil {
				return err
			}
		case string:
			keys, cells[key] = append(keys, key), v
		case json.Number:
			keys, cells[key] = append(keys, key), v.String()
		case bool:
			keys, cells[key] = append(keys, key), fmt.Sprint(v)
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return jsonListError(err)
	}
	return w.record(keys, cells)
}

// record reports the indicators of one object, if it names any.
func (w *jsonWalker) record(keys []string, cells map[string]string) error {
	var iocKeys []string
	for _, k := range keys {
		if iocColumns[normColumn(k)] && strings.TrimSpace(cells[k]) != "" {
			iocKeys = append(iocKeys, k)
		}
	}
	if len(iocKeys) == 0 {
		return nil
	}
	w.records++
	var fields map[string]string
	for _, k := range keys {
		if v := strings.TrimSpace(cells[k]); v != "" && !slices.Contains(iocKeys, k) {
			if fields == nil {
				fields = map[string]string{}
			}
			fields[k] = v
		}
	}
	for _, k := range iocKeys {
		ioc, reason := detect(cells[k])
		if reason != "" {
			w.bad(w.records, strings.TrimSpace(cells[k]), reason)
			continue
		}
		ioc.Line, ioc.Fields = w.records, fields
		if len(iocKeys) > 1 && fields != nil {
			ioc.Fields = maps.Clone(fields)
		}
		if err := w.fn(ioc); err != nil {
			return err
		}
	}
	return nil
}

// jsonListError makes a decoder's error the input's (EINVALID), and
// passes nil and read errors through.
func jsonListError(err error) error {
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return hail.Errorf(hail.EINVALID, "Malformed JSON list at byte %d: %v.", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return hail.Errorf(hail.EINVALID, "The JSON list ends early.")
	}
	return fmt.Errorf("read JSON list: %w", err)
}

// SniffJSONList reports whether head, the first bytes of a JSON input, is
// an IOC list in JSON (FormatJSON) rather than STIX or MISP: the first
// object it opens, at the top or in a top-level array, has none of the
// keys of a STIX object or container ("type", "id", "objects", "more",
// "next", "spec_version") among those head shows, and some object in head
// has a key that names an indicator, as a CSV header would (iocColumns).
// Undecided inputs are not lists: STIX's reader then says what they lack.
func SniffJSONList(head []byte) bool {
	if !SniffJSON(head) || SniffMISP(head) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(head, utf8BOM)))
	type frame struct{ obj, wantKey bool }
	var stack []frame
	first := 0 // depth of the first object, while it is open
	done := false
	sawIOC := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break // the head ends mid-document, or is not JSON after all
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			if len(stack) == first {
				first, done = 0, true
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			k, _ := tok.(string)
			stack[n-1].wantKey = false
			if n == first && stixKey(k) {
				return false
			}
			if iocColumns[normColumn(k)] {
				sawIOC = true
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true // after this value, the next key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true})
			if first == 0 && !done {
				first = len(stack)
			}
		case json.Delim('['):
			stack = append(stack, frame{})
		}
	}
	return sawIOC
}

// stixKey reports whether key is one of a STIX object's or container's.
func stixKey(key string) bool {
	switch key {
	case "type", "id", "objects", "more", "next", "spec_version":
		return true
	}
	return false
}
