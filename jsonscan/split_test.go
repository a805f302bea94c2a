package jsonscan

import (
	"reflect"
	"testing"
)

func TestMembers(t *testing.T) {
	v := []byte(` { "a" : 1, "b\u0063": {"x": [1, "]"]}, "s": "q\"}" , "a": null } `)
	var names, values []string
	if !Members(v, func(name, value []byte) bool {
		names = append(names, string(name))
		values = append(values, string(value))
		return true
	}) {
		t.Fatal("Members: not an object")
	}
	if want := []string{"a", "bc", "s", "a"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if want := []string{"1", `{"x": [1, "]"]}`, `"q\"}"`, "null"}; !reflect.DeepEqual(values, want) {
		t.Errorf("values %q, want %q", values, want)
	}
	m, ok := Object(v)
	if !ok || len(m) != 3 || string(m["a"]) != "null" || string(m["bc"]) != `{"x": [1, "]"]}` {
		t.Errorf("Object = %q, %v; want 3 members, the last a winning", m, ok)
	}
	n := 0
	Members(v, func(name, value []byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Members went on after fn returned false: %d calls", n)
	}
	if Members([]byte(`[1]`), func(name, value []byte) bool { return true }) {
		t.Error("Members of an array reported an object")
	}
}

func TestArrayAndStrings(t *testing.T) {
	l, ok := Array([]byte(` [ 1 , "a,b" , [2, 3], {"c": "]"} ] `))
	if !ok || len(l) != 4 || string(l[1]) != `"a,b"` || string(l[3]) != `{"c": "]"}` {
		t.Errorf("Array = %q, %v", l, ok)
	}
	if l, ok := Array([]byte(`[]`)); !ok || len(l) != 0 {
		t.Errorf("Array([]) = %q, %v", l, ok)
	}
	if _, ok := Array([]byte(`{}`)); ok {
		t.Error("Array of an object reported an array")
	}
	if s, ok := Strings([]byte(`["a", "caf\u00e9", "q\"q"]`)); !ok || !reflect.DeepEqual(s, []string{"a", "café", `q"q`}) {
		t.Errorf("Strings = %q, %v", s, ok)
	}
	if _, ok := Strings([]byte(`["a", 1]`)); ok {
		t.Error("Strings accepted a number")
	}
	for in, want := range map[string]string{` "plain" `: "plain", `"tab\tnew\nline"`: "tab\tnew\nline", `"\ud83d\ude00"`: "😀"} {
		if got, ok := String([]byte(in)); !ok || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`1`, `null`, `["a"]`, ``} {
		if _, ok := String([]byte(in)); ok {
			t.Errorf("String(%s) reported a string", in)
		}
	}
}
