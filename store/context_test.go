package store

import (
	"slices"
	"testing"
	"time"

	"hail/stix"
)

func TestContextRefs(t *testing.T) {
	info := ObjectInfo{CreatedBy: "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",
		MarkingRefs: []string{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",
			"x-acme-thing--0a0b0c0d-0000-4000-8000-000000000000", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}}
	want := []string{"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}
	if got := info.ContextRefs(); !slices.Equal(got, want) {
		t.Errorf("ContextRefs() = %v, want %v", got, want)
	}
	if got := (ObjectInfo{CreatedBy: "not an id"}).ContextRefs(); len(got) != 0 {
		t.Errorf("ContextRefs of a malformed creator = %v", got)
	}
}

func TestContextUse(t *testing.T) {
	const (
		acme  = "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"
		other = "identity--0f0e0d0c-0b0a-4909-8807-060504030201"
		mark  = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	)
	f, err := ParseCollectionFilter("labels=c2")
	if err != nil {
		t.Fatal(err)
	}
	u := NewContextUse(f, time.Now())
	obj := func(id string) stix.Object { o := stix.Object{ID: id}; o.Type, _, _ = cut(id); return o }
	// acme names other as its creator; only acme's own versions do.
	u.Hold(obj(acme), ObjectInfo{CreatedBy: other})
	u.Hold(obj(other), ObjectInfo{})
	u.Hold(obj(mark), ObjectInfo{})
	labelled := "identity--11111111-2222-4333-8444-555555555555"
	u.Hold(obj(labelled), ObjectInfo{})
	u.Hold(obj(labelled), ObjectInfo{Labels: []string{"c2"}}) // one version matches: it stays
	if got, want := u.Candidates(), []string{other, acme, mark}; !slices.Equal(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
	u.See(obj(acme), ObjectInfo{CreatedBy: other}) // a candidate's own reference does not count
	u.See(obj("indicator--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"), ObjectInfo{MarkingRefs: []string{mark}})
	if got, want := u.Candidates(), []string{other, acme}; !slices.Equal(got, want) {
		t.Errorf("after the scan, unnamed %v, want %v", got, want)
	}
}

// cut splits a STIX id into its type and UUID.
func cut(id string) (string, string, bool) {
	for i := 0; i+1 < len(id); i++ {
		if id[i] == '-' && id[i+1] == '-' {
			return id[:i], id[i+2:], true
		}
	}
	return "", "", false
}
