package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// envelope is what a poller needs of one page (TAXII 2.1 §3.7).
type envelope struct {
	More    bool
	Next    string
	Objects int // elements of the "objects" list
}

var errNotEnvelope = errors.New("not a TAXII envelope: a JSON object was expected")

// scanEnvelope reads "more", "next" and the number of objects of an envelope
// without decoding the objects. Pollers in the harness use it, on the hail
// server and on the raw HTTP reference alike, so that both are measured with
// the same, cheap, client: a client that decoded every object would measure
// its own JSON decoder rather than the server.
//
// Keys are matched exactly and the last occurrence of a key wins, as with a
// JSON object decoded into a map. A value of the wrong type (a "more" that
// is not a boolean) is skipped. The objects themselves are skipped by
// bracket counting, not validated.
func scanEnvelope(b []byte) (envelope, error) {
	var env envelope
	s := scanner{b: b}
	s.space()
	if !s.eat('{') {
		return env, errNotEnvelope
	}
	s.space()
	if s.eat('}') {
		return env, nil
	}
	for {
		s.space()
		key, ok := s.str()
		if !ok {
			return env, s.fail("a property name")
		}
		s.space()
		if !s.eat(':') {
			return env, s.fail("':'")
		}
		s.space()
		if err := s.value(key, &env); err != nil {
			return env, err
		}
		s.space()
		if s.eat('}') {
			return env, nil
		}
		if !s.eat(',') {
			return env, s.fail("',' or '}'")
		}
	}
}

// value reads the value of property key into env, or skips it.
func (s *scanner) value(key []byte, env *envelope) error {
	switch string(key) {
	case "more":
		switch {
		case bytes.HasPrefix(s.b[s.i:], []byte("true")):
			env.More = true
		case bytes.HasPrefix(s.b[s.i:], []byte("false")):
			env.More = false
		}
	case "next":
		if s.peek() == '"' {
			start := s.i
			raw, ok := s.str()
			if !ok {
				return s.fail("the end of a string")
			}
			env.Next = string(raw)
			if bytes.IndexByte(raw, '\\') >= 0 {
				if err := json.Unmarshal(s.b[start:s.i], &env.Next); err != nil {
					return s.fail("a valid string")
				}
			}
			return nil
		}
	case "objects":
		if s.peek() == '[' {
			n, err := s.count()
			env.Objects = n
			return err
		}
	}
	if !s.skip() {
		return s.fail("a value")
	}
	return nil
}

// scanner walks a JSON text.
type scanner struct {
	b []byte
	i int
}

// scanError is a position and what was expected there.
type scanError struct {
	offset int
	want   string
}

func (e *scanError) Error() string {
	return "envelope: want " + e.want + " at offset " + strconv.Itoa(e.offset)
}

func (s *scanner) fail(want string) error { return &scanError{s.i, want} }

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// str reads a string and returns its contents, escapes undecoded.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	if !s.skipString() {
		return nil, false
	}
	return s.b[start : s.i-1], true
}

// skipString moves past the closing quote of a string whose opening quote
// has been read.
func (s *scanner) skipString() bool {
	for {
		j := bytes.IndexByte(s.b[s.i:], '"')
		if j < 0 {
			s.i = len(s.b)
			return false
		}
		end := s.i + j
		backslashes := 0
		for k := end - 1; k >= s.i && s.b[k] == '\\'; k-- {
			backslashes++
		}
		s.i = end + 1
		if backslashes%2 == 0 {
			return true
		}
	}
}

// skip moves past one value.
func (s *scanner) skip() bool {
	switch c := s.peek(); c {
	case '"':
		s.i++
		return s.skipString()
	case '{', '[':
		return s.skipNested()
	case 0:
		return false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return s.i > start
		}
		s.i++
	}
	return s.i > start
}

// skipNested moves past an object or array by counting brackets outside
// strings. It is the pollers' inner loop: plain bytes are skipped by table
// lookup and strings by bytes.IndexByte, which measured two to three times
// faster than one switch per byte.
func (s *scanner) skipNested() bool {
	depth := 0
	for s.i < len(s.b) {
		for s.i < len(s.b) && !structural[s.b[s.i]] {
			s.i++
		}
		if s.i == len(s.b) {
			break
		}
		switch s.b[s.i] {
		case '"':
			s.i++
			if !s.skipString() {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		}
		s.i++
	}
	return false
}

// structural marks the bytes skipNested stops at.
var structural = func() (t [256]bool) {
	for _, c := range []byte(`"{}[]`) {
		t[c] = true
	}
	return t
}()

// count moves past an array and returns how many elements it has.
func (s *scanner) count() (int, error) {
	s.i++ // '['
	s.space()
	if s.eat(']') {
		return 0, nil
	}
	n := 0
	for {
		s.space()
		if !s.skip() {
			return n, s.fail("an object")
		}
		n++
		s.space()
		if s.eat(']') {
			return n, nil
		}
		if !s.eat(',') {
			return n, s.fail("',' or ']'")
		}
	}
}
