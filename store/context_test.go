package store

import (
	"context"
	"fmt"
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

// sliceReader is a ContextReader over versions whose date_added is their
// index + 1, counting the reads of Range.
type sliceReader struct {
	vs    []HeldVersion
	reads int
}

func (r *sliceReader) Context(_ context.Context, after, end int64) ([]HeldVersion, error) {
	var out []HeldVersion
	for i := after; i < min(end, int64(len(r.vs))); i++ {
		if IsContextType(r.vs[i].Object.Type) {
			out = append(out, r.vs[i])
		}
	}
	return out, nil
}

func (r *sliceReader) Range(_ context.Context, after, end int64, limit int) ([]HeldVersion, int64, error) {
	r.reads++
	hi := min(end, int64(len(r.vs)))
	if limit > 0 {
		hi = min(hi, after+int64(limit))
	}
	if after >= hi {
		return nil, 0, nil
	}
	return r.vs[after:hi], hi, nil
}

func TestContextUseScan(t *testing.T) {
	const acme = "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"
	held := func(typ, id string, info ObjectInfo) HeldVersion {
		return HeldVersion{Object: stix.Object{ID: id, Type: typ}, Info: info}
	}
	indicator := func(n int, by string) HeldVersion {
		return held("indicator", fmt.Sprintf("indicator--%08x-3c1e-4f7a-9d2b-0a8b2c4d6e8f", n), ObjectInfo{CreatedBy: by})
	}
	r := &sliceReader{vs: []HeldVersion{held("identity", acme, ObjectInfo{})}}
	for n := 0; n < 9; n++ {
		r.vs = append(r.vs, indicator(n, ""))
	}
	u := NewContextUse(CollectionFilter{Types: []string{"indicator"}}, time.Now())
	if err := u.Scan(context.Background(), r, 0, 100, 2); err != nil {
		t.Fatal(err)
	}
	if got := u.Candidates(); !slices.Equal(got, []string{acme}) || r.reads != 6 {
		t.Errorf("after a scan of 10 versions 2 at a time: unnamed %v in %d reads, want [%s] in 6 (the last finds nothing)", got, r.reads, acme)
	}

	// The second indicator names the identity: the scan stops there.
	r.vs[2] = indicator(1, acme)
	r.reads = 0
	u = NewContextUse(CollectionFilter{Types: []string{"indicator"}}, time.Now())
	if err := u.Scan(context.Background(), r, 0, 100, 2); err != nil {
		t.Fatal(err)
	}
	if got := u.Candidates(); len(got) != 0 || r.reads != 2 {
		t.Errorf("with the identity named by the third version: unnamed %v after %d reads, want none after 2", got, r.reads)
	}
}

// TestContextUsePending checks Pending against Candidates whatever the
// order of Hold and See.
func TestContextUsePending(t *testing.T) {
	ids := []string{"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f", "identity--0f0e0d0c-0b0a-4909-8807-060504030201",
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}
	f, _ := ParseCollectionFilter("labels=c2")
	type step struct {
		hold    bool // else see
		id      int
		labeled bool // hold: a version with the label the filter matches
	}
	steps := []step{{true, 0, false}, {false, 1, false}, {true, 1, false}, {true, 2, false}, {true, 2, true},
		{true, 0, false}, {false, 0, false}, {true, 2, false}}
	u := NewContextUse(f, time.Now())
	for i, s := range steps {
		o := stix.Object{ID: ids[s.id]}
		o.Type, _, _ = cut(o.ID)
		if s.hold {
			var info ObjectInfo
			if s.labeled {
				info.Labels = []string{"c2"}
			}
			u.Hold(o, info)
		} else {
			// An indicator naming ids[s.id].
			ref := ObjectInfo{CreatedBy: ids[s.id]}
			if ids[s.id][0] == 'm' {
				ref = ObjectInfo{MarkingRefs: []string{ids[s.id]}}
			}
			u.See(stix.Object{ID: "indicator--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f", Type: "indicator"}, ref)
		}
		if got, want := u.Pending(), len(u.Candidates()); got != want {
			t.Fatalf("after step %d %+v: Pending %d, Candidates %v", i, s, got, u.Candidates())
		}
	}
	if got := u.Candidates(); len(got) != 0 {
		t.Errorf("candidates %v, want none: the first named, the second named, the marking matched", got)
	}
}
