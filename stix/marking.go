package stix

import (
	"encoding/json"
	"hail/jsonscan"
	"strconv"
	"strings"

	"hail"
)

// selector checks the syntax of one granular marking selector (STIX 2.1
// §7.2.3): components separated by '.', each a property name or dictionary
// key, or a list index in brackets such as [4].
func selector(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a string")
	}
	for _, c := range strings.Split(s, ".") {
		if _, ok := listIndex(c); ok {
			continue
		}
		if c == "" || strings.ContainsAny(c, "[]") {
			return faultf("is not a selector (components separated by '.', list indexes as [n]): " + strconv.Quote(s))
		}
	}
	return nil
}

// listIndex returns n for a component "[n]".
func listIndex(c string) (int, bool) {
	if len(c) < 3 || c[0] != '[' || c[len(c)-1] != ']' || !allDigits(c[1:len(c)-1]) {
		return 0, false
	}
	n, err := strconv.Atoi(c[1 : len(c)-1])
	return n, err == nil
}

// checkSelectors: "Selectors MUST refer to properties or list items that are
// actually present on the marked object" (STIX 2.1 §7.2.3). Their syntax has
// been checked already.
func checkSelectors(raw []byte) error {
	var root map[string]any
	if json.Unmarshal(raw, &root) != nil {
		return nil
	}
	markings, _ := root["granular_markings"].([]any)
	for i, gm := range markings {
		m, _ := gm.(map[string]any)
		sels, _ := m["selectors"].([]any)
		for j, sel := range sels {
			s, _ := sel.(string)
			if !resolves(root, s) {
				return hail.Errorf(hail.EUNPROCESSABLE, "Property \"granular_markings[%d].selectors[%d]\" selects nothing in the object: %q.", i, j, s)
			}
		}
	}
	return nil
}

// resolves reports whether selector s reaches a value inside v.
func resolves(v any, s string) bool {
	for _, c := range strings.Split(s, ".") {
		if n, ok := listIndex(c); ok {
			l, isList := v.([]any)
			if !isList || n >= len(l) {
				return false
			}
			v = l[n]
			continue
		}
		m, isObject := v.(map[string]any)
		if !isObject {
			return false
		}
		next, found := m[c]
		if !found {
			return false
		}
		v = next
	}
	return true
}
