package pgnotify

import "testing"

func TestPayload(t *testing.T) {
	tests := []struct {
		payload, instance, collection string
	}{
		{"0a1b2c3d4e5f6071 91a7b528-80eb-42ed-a74d-c6fbd5a26116", "0a1b2c3d4e5f6071", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"},
		{"91a7b528-80eb-42ed-a74d-c6fbd5a26116", "", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"},
		{"", "", ""},
		{"a b c", "a", "b c"},
	}
	for _, tt := range tests {
		inst, coll := parsePayload(tt.payload)
		if inst != tt.instance || coll != tt.collection {
			t.Errorf("parsePayload(%q) = %q, %q, want %q, %q", tt.payload, inst, coll, tt.instance, tt.collection)
		}
	}
}

// FuzzPayload: any payload parses, and a payload this package formats
// parses back to what it was made from.
func FuzzPayload(f *testing.F) {
	f.Add("0a1b2c3d4e5f6071 91a7b528-80eb-42ed-a74d-c6fbd5a26116")
	f.Add("*")
	f.Fuzz(func(t *testing.T, p string) {
		inst, coll := parsePayload(p)
		if inst != "" && formatPayload(inst, coll) != p {
			t.Errorf("parsePayload(%q) = %q, %q, which does not format back", p, inst, coll)
		}
		self := newInstance()
		if gi, gc := parsePayload(formatPayload(self, p)); gi != self || gc != p {
			t.Errorf("round trip of %q: %q, %q", p, gi, gc)
		}
	})
}
