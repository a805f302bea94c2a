package ingest

import (
	"encoding/json"
	"testing"
	"time"

	"hail/stix"
)

func TestRevokedVersion(t *testing.T) {
	o, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--6a8f1d9e-2b4c-4d5e-8f70-1a2b3c4d5e6f",` +
		`"created":"2025-01-01T00:00:00.000Z","modified":"2025-06-01T12:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.1']",` +
		`"pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z","x_custom":{"kept":[1,2]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"later", time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), "2025-06-02T00:00:00.000Z"},
		{"clock behind", time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC), "2025-06-01T12:00:00.001Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RevokedVersion(o, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Modified string          `json:"modified"`
				Revoked  bool            `json:"revoked"`
				Custom   json.RawMessage `json:"x_custom"`
			}
			json.Unmarshal(r.Raw, &got)
			if got.Modified != tc.want || !got.Revoked || string(got.Custom) != `{"kept":[1,2]}` || r.ID != o.ID {
				t.Errorf("revoked version %s; want modified %s, revoked, x_custom kept", r.Raw, tc.want)
			}
			if err := stix.Validate(r); err != nil {
				t.Errorf("revoked version does not validate: %v", err)
			}
		})
	}
}

// FuzzRevokedVersion checks that any object RevokedVersion accepts comes
// back as a later, revoked version of the same object.
func FuzzRevokedVersion(f *testing.F) {
	f.Add([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--6a8f1d9e-2b4c-4d5e-8f70-1a2b3c4d5e6f","created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"type":"vulnerability","id":"vulnerability--6a8f1d9e-2b4c-4d5e-8f70-1a2b3c4d5e6f","modified":"9999-12-31T23:59:59.999Z"}`))
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := stix.Parse(raw)
		if err != nil {
			return
		}
		r, err := RevokedVersion(o, now)
		if err != nil {
			return
		}
		if r.ID != o.ID || !r.Revoked {
			t.Errorf("RevokedVersion(%s) = %s: id %q revoked %v", raw, r.Raw, r.ID, r.Revoked)
		}
		if !o.Version.IsZero() && !r.Version.After(o.Version) {
			t.Errorf("RevokedVersion(%s) = %s: version %v not after %v", raw, r.Raw, r.Version, o.Version)
		}
	})
}
