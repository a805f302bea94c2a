package storetest

import (
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

func testStatusCreateAndGet(t *testing.T, s store.Store) {
	setup(t, s)
	st := store.Status{
		ID: "2d086da7-4bdc-4f91-900e-d77486753710", APIRoot: "api", CollectionID: coll1, RequestTimestamp: created,
		Status: "complete", Total: 4,
		Successes: []store.StatusDetail{{ID: id("indicator", 1), Version: "2024-01-01T00:00:00.000Z"},
			{ID: id("indicator", 2), Version: "2024-01-01T00:00:00.000Z", Message: "Object already added."}},
		Failures: []store.StatusDetail{{ID: id("malware", 3), Version: "2024-01-01T00:00:00.000Z", Message: "Property \"name\" is required."}},
		Pendings: []store.StatusDetail{{ID: id("tool", 4), Version: "2024-01-01T00:00:00.000Z"}},
	}
	if err := s.CreateStatus(ctx, st); err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	empty := store.Status{ID: "9a0c2f6e-3b44-4c1b-8f1e-6a3e1e9b2c55", APIRoot: "api", RequestTimestamp: created, Status: "complete"}
	if err := s.CreateStatus(ctx, empty); err != nil {
		t.Fatalf("CreateStatus: %v", err)
	}
	for _, want := range []store.Status{st, empty} {
		got, err := s.Status(ctx, "api", want.ID)
		if err != nil {
			t.Errorf("Status(%s): %v", want.ID, err)
			continue
		}
		if !got.RequestTimestamp.Equal(want.RequestTimestamp) {
			t.Errorf("RequestTimestamp = %v, want %v", got.RequestTimestamp, want.RequestTimestamp)
		}
		got.RequestTimestamp = want.RequestTimestamp
		// An empty list may come back nil or empty.
		for _, l := range []*[]store.StatusDetail{&got.Successes, &got.Failures, &got.Pendings} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Status(%s):\n got %+v\nwant %+v", want.ID, got, want)
		}
	}
	_, err := s.Status(ctx, "other", st.ID)
	wantCode(t, "Status in another API root", err, hail.ENOTFOUND)
	_, err = s.Status(ctx, "api", "00000000-0000-4000-8000-000000000000")
	wantCode(t, "Status of a missing id", err, hail.ENOTFOUND)
	err = s.CreateStatus(ctx, store.Status{ID: st.ID, APIRoot: "api", Status: "pending"})
	wantCode(t, "CreateStatus with a taken id", err, hail.ECONFLICT)
	if got, _ := s.Status(ctx, "api", st.ID); got.Status != "complete" {
		t.Errorf("a refused create changed the status to %q", got.Status)
	}
}

func testStatusDeleteBefore(t *testing.T, s store.Store) {
	setup(t, s)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"}
	for i, sid := range ids {
		if err := s.CreateStatus(ctx, store.Status{ID: sid, APIRoot: "api", Status: "complete",
			RequestTimestamp: base.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteStatusesBefore(ctx, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("DeleteStatusesBefore(+1h) = %d, %v; want 1 (strictly before)", n, err)
	}
	_, err = s.Status(ctx, "api", ids[0])
	wantCode(t, "Status after its deletion", err, hail.ENOTFOUND)
	for _, sid := range ids[1:] {
		if _, err := s.Status(ctx, "api", sid); err != nil {
			t.Errorf("Status(%s) after deleting older ones: %v", sid, err)
		}
	}
	n, err = s.DeleteStatusesBefore(ctx, base.Add(time.Hour+time.Nanosecond))
	if err != nil || n != 1 {
		t.Errorf("DeleteStatusesBefore(+1h+1ns) = %d, %v; want 1", n, err)
	}
	n, err = s.DeleteStatusesBefore(ctx, base)
	if err != nil || n != 0 {
		t.Errorf("DeleteStatusesBefore(nothing older) = %d, %v; want 0", n, err)
	}
}

// testStatusWithObjects checks AddObjectsStatus: the status is made of the
// call's results and stored with the objects; a status whose id is taken
// leaves the objects unstored too, and a missing collection stores neither.
func testStatusWithObjects(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1, indicator(t, 1, "2024-01-01T00:00:00.000Z"))
	objs := []stix.Object{indicator(t, 1, "2024-01-01T00:00:00.000Z"), indicator(t, 2, "2024-01-01T00:00:00.000Z")}
	const statusID = "6f1d0c55-8a3e-4b6f-9f0e-2c4d6e8a0b13"
	var calls int
	status := func(res []store.AddResult) store.Status {
		calls++
		st := store.Status{ID: statusID, APIRoot: "api", CollectionID: coll1, RequestTimestamp: created, Status: "complete",
			Total: len(res)}
		for _, r := range res {
			d := store.StatusDetail{ID: r.ID, Version: "2024-01-01T00:00:00.000Z"}
			if r.Duplicate {
				d.Message = "duplicate"
			}
			st.Successes = append(st.Successes, d)
		}
		return st
	}
	res, err := s.AddObjectsStatus(ctx, coll1, objs, status)
	if err != nil || len(res) != 2 || !res[0].Duplicate || res[1].Duplicate {
		t.Fatalf("AddObjectsStatus: %+v, %v; want a duplicate and a new version", res, err)
	}
	if calls == 0 {
		t.Fatal("AddObjectsStatus never asked for the status")
	}
	got, err := s.Status(ctx, "api", statusID)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	want := []store.StatusDetail{{ID: objs[0].ID, Version: "2024-01-01T00:00:00.000Z", Message: "duplicate"},
		{ID: objs[1].ID, Version: "2024-01-01T00:00:00.000Z"}}
	if got.Total != 2 || got.CollectionID != coll1 || !reflect.DeepEqual(got.Successes, want) {
		t.Errorf("stored status: %+v\nwant successes %+v", got, want)
	}
	check(t, s, coll1, store.Filter{}, false, objs...)

	// The same status id again: refused, and the new object with it.
	third := indicator(t, 3, "2024-01-01T00:00:00.000Z")
	_, err = s.AddObjectsStatus(ctx, coll1, []stix.Object{third}, status)
	wantCode(t, "AddObjectsStatus with a taken status id", err, hail.ECONFLICT)
	check(t, s, coll1, store.Filter{}, false, objs...)
	if got, _ := s.Status(ctx, "api", statusID); got.Total != 2 {
		t.Errorf("the refused call changed the status: total %d", got.Total)
	}

	other := func([]store.AddResult) store.Status {
		return store.Status{ID: "0d3f5a77-9c1e-4e2a-8b4d-6f8a0c2e4b35", APIRoot: "api", Status: "complete"}
	}
	_, err = s.AddObjectsStatus(ctx, "00000000-0000-4000-8000-000000000000", []stix.Object{third}, other)
	wantCode(t, "AddObjectsStatus into a missing collection", err, hail.ENOTFOUND)
	_, err = s.Status(ctx, "api", "0d3f5a77-9c1e-4e2a-8b4d-6f8a0c2e4b35")
	wantCode(t, "the status of a call into a missing collection", err, hail.ENOTFOUND)
}
