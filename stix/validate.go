package stix

import (
	"encoding/json"
	"hail/jsonscan"
	"sort"
	"strconv"
	"strings"
	"time"

	"hail"
)

// Validate checks the per-type rules of STIX 2.1 that Parse does not: the
// common properties each kind of object requires, the required properties
// and ordering rules of every type the specification defines, the shape of
// embedded types (external references, kill chain phases, granular
// markings, extensions), and custom property names. Objects of types it
// does not know (x-mitre-tactic, types from extension definitions) get the
// common rules only.
//
// It is strict where a violation would make the object unusable or
// misleading, and lenient where producers are commonly sloppy but the meaning
// is clear: open vocabularies are not enforced, enumerations forgive case and
// blanks, custom properties need not start with "x_".
//
// o must come from Parse: Validate relies on Parse having checked that Raw
// is well-formed JSON, and does not check it again (on malformed input its
// verdict is meaningless, though it does not fail). Errors are
// hail.EUNPROCESSABLE with a message that names the property.
func Validate(o Object) error {
	m, ok := jsonscan.Object(o.Raw)
	if !ok {
		return hail.Errorf(hail.EUNPROCESSABLE, "A STIX object must be a JSON object.")
	}
	if o.Type == "bundle" {
		// TAXII 2.1 §3.7: an envelope's objects are STIX objects, and a
		// bundle is only a wrapper of them (STIX 2.1 §8).
		return hail.Errorf(hail.EUNPROCESSABLE, "A bundle is not a STIX object that can be stored: send the objects it holds.")
	}
	p := props(m)
	s := schemas[o.Type]
	if s == nil {
		s = customSchema
	}
	if f := checkFields(p, s.fields); f != nil {
		return propertyError(f)
	}
	if err := checkCustomNames(p, s); err != nil {
		return err
	}
	for _, r := range s.rules {
		if err := r(p); err != nil {
			return err
		}
	}
	if _, ok := p["granular_markings"]; ok {
		return checkSelectors(o.Raw)
	}
	return nil
}

// props are the top-level properties of an object, undecoded.
type props map[string]json.RawMessage

// A rule checks a constraint between properties whose values have already
// passed their own checks. It returns a *hail.Error.
type rule func(p props) error

// schema is what Validate knows of one type.
type schema struct {
	fields []field
	known  map[string]bool // the properties the specification defines for it
	rules  []rule
}

func newSchema(common, specific []field, rules ...rule) *schema {
	s := &schema{known: map[string]bool{"type": true, "id": true}, rules: rules}
	s.fields = append(append(s.fields, common...), specific...)
	for _, f := range s.fields {
		s.known[f.name] = true
	}
	return s
}

// schemas holds every type STIX 2.1 defines, by type name.
var schemas = func() map[string]*schema {
	m := map[string]*schema{}
	for name, s := range domainSchemas() {
		m[name] = s
	}
	for name, s := range observableSchemas() {
		m[name] = s
	}
	return m
}()

var customSchema = newSchema(customCommon, nil)

func propertyError(f *fault) error {
	return hail.Errorf(hail.EUNPROCESSABLE, "Property %q %s.", strings.TrimPrefix(f.path, "."), f.msg)
}

// ValidPropertyName reports whether s may name a custom property: 3–250
// characters of a–z, 0–9 and '_' (STIX 2.1 §3.1 and §11.1). The "x_" prefix
// is recommended but not required; real producers (MITRE ATT&CK among them)
// publish un-prefixed names.
func ValidPropertyName(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkCustomNames reports the first (in sorted order) property that the
// specification does not define for the type and whose name is not a valid
// custom property name.
func checkCustomNames(p props, s *schema) error {
	var bad []string
	for k := range p {
		if !s.known[k] && !ValidPropertyName(k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return hail.Errorf(hail.EUNPROCESSABLE, "Property %q is not a valid custom property name: use 3 to 250 characters of a-z, 0-9 and '_'.", bad[0])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// has reports whether p holds name with a value other than null.
func (p props) has(name string) bool {
	v, ok := p[name]
	return ok && kindOf(v) != 'n'
}

// time returns the timestamp held by name, already checked by its field.
func (p props) time(name string) (time.Time, string, bool) {
	s, ok := jsonscan.String(p[name])
	if !ok {
		return time.Time{}, "", false
	}
	t, err := ParseTimestamp(s)
	return t, s, err == nil
}

// str returns the string held by name, "" if there is none.
func (p props) str(name string) string {
	s, _ := jsonscan.String(p[name])
	return s
}

// ordered requires that last, when present with first, is not before first;
// or, if strict, is after it.
func ordered(first, last string, strict bool) rule {
	return func(p props) error {
		a, as, ok1 := p.time(first)
		b, bs, ok2 := p.time(last)
		if !ok1 || !ok2 {
			return nil
		}
		if strict && !b.After(a) {
			return hail.Errorf(hail.EUNPROCESSABLE, "Property %q (%s) must be later than %q (%s).", last, bs, first, as)
		}
		if b.Before(a) {
			return hail.Errorf(hail.EUNPROCESSABLE, "Property %q (%s) must not be before %q (%s).", last, bs, first, as)
		}
		return nil
	}
}

// anyOf requires at least one of names; what names the object for the
// message.
func anyOf(what string, names ...string) rule {
	return func(p props) error {
		for _, n := range names {
			if p.has(n) {
				return nil
			}
		}
		return hail.Errorf(hail.EUNPROCESSABLE, "%s needs at least one of the properties %s.", what, quoteAll(names))
	}
}

// exclusive forbids a and b together.
func exclusive(a, b string) rule {
	return func(p props) error {
		if p.has(a) && p.has(b) {
			return hail.Errorf(hail.EUNPROCESSABLE, "Property %q must not be present together with %q.", b, a)
		}
		return nil
	}
}

// needs requires dep whenever name is present.
func needs(name, dep string) rule {
	return func(p props) error {
		if p.has(name) && !p.has(dep) {
			return hail.Errorf(hail.EUNPROCESSABLE, "Property %q is required when %q is present.", dep, name)
		}
		return nil
	}
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
