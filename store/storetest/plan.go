package storetest

import (
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// runPlans runs the suite of plans, key limits, rate buckets and activity.
func runPlans(t *testing.T, open func(t *testing.T) store.Store) {
	sub := func(name string, f func(*testing.T, store.Store)) {
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
	sub("CreateAndList", testPlanCreateAndList)
	sub("Delete", testPlanDelete)
	sub("Update", testPlanUpdate)
	sub("KeyLimits", testKeyLimits)
	sub("TakeToken", testTakeToken)
	sub("Activity", testActivity)
}

func testPlanCreateAndList(t *testing.T, s store.Store) {
	plans := []store.Plan{
		{Name: "pro", Rate: 60, Period: time.Minute, Burst: 10, APIs: []string{store.APITAXII, store.APIREST},
			MaxPage: 1000, MinPollInterval: time.Minute, Created: created},
		{Name: "free", Rate: 4, Period: time.Hour, APIs: []string{store.APIREST}, MinPollInterval: 15 * time.Minute, Created: created},
	}
	for _, p := range plans {
		if err := s.CreatePlan(ctx, p); err != nil {
			t.Fatalf("CreatePlan(%s): %v", p.Name, err)
		}
	}
	err := s.CreatePlan(ctx, store.Plan{Name: "pro", Created: created})
	wantCode(t, "CreatePlan with a taken name", err, hail.ECONFLICT)
	for _, p := range plans {
		got, err := s.Plan(ctx, p.Name)
		if err != nil || !equalPlan(got, p) {
			t.Errorf("Plan(%s) = %+v, %v; want %+v", p.Name, got, err, p)
		}
	}
	_, err = s.Plan(ctx, "gold")
	wantCode(t, "Plan of an unknown name", err, hail.ENOTFOUND)
	got, err := s.Plans(ctx)
	if err != nil || len(got) != 2 || !equalPlan(got[0], plans[1]) || !equalPlan(got[1], plans[0]) {
		t.Errorf("Plans = %+v, %v; want free then pro", got, err)
	}
}

// testPlanUpdate gives a plan new limits: the other plan and the plan's
// Created stay.
func testPlanUpdate(t *testing.T, s store.Store) {
	pro := store.Plan{Name: "pro", Rate: 60, Period: time.Minute, APIs: []string{store.APITAXII}, Created: created}
	free := store.Plan{Name: "free", Rate: 4, Period: time.Hour, Created: created}
	for _, p := range []store.Plan{pro, free} {
		if err := s.CreatePlan(ctx, p); err != nil {
			t.Fatalf("CreatePlan(%s): %v", p.Name, err)
		}
	}
	pro.Rate, pro.Period, pro.Burst, pro.APIs, pro.MaxPage, pro.MinPollInterval = 120, time.Hour, 7, nil, 500, time.Minute
	changed := pro
	changed.Created = created.Add(time.Hour) // not the store's to change
	if err := s.UpdatePlan(ctx, changed); err != nil {
		t.Fatalf("UpdatePlan: %v", err)
	}
	if got, err := s.Plan(ctx, "pro"); err != nil || !equalPlan(got, pro) {
		t.Errorf("Plan(pro) after the update = %+v, %v; want %+v", got, err, pro)
	}
	if got, err := s.Plan(ctx, "free"); err != nil || !equalPlan(got, free) {
		t.Errorf("Plan(free) = %+v, %v; want it unchanged", got, err)
	}
	wantCode(t, "UpdatePlan(missing)", s.UpdatePlan(ctx, store.Plan{Name: "gold"}), hail.ENOTFOUND)
}

// equalPlan compares plans, times as instants.
func equalPlan(got, want store.Plan) bool {
	if !got.Created.Equal(want.Created) {
		return false
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	return reflect.DeepEqual(got, want)
}

func testPlanDelete(t *testing.T, s store.Store) {
	for _, name := range []string{"free", "pro"} {
		if err := s.CreatePlan(ctx, store.Plan{Name: name, Rate: 1, Period: time.Second, Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateKey(ctx, store.Key{ID: "k1", Name: "soc1", Hash: hash("a"), Plan: "pro", Created: created}); err != nil {
		t.Fatal(err)
	}
	err := s.DeletePlan(ctx, "pro")
	wantCode(t, "DeletePlan of a plan a key is on", err, hail.ECONFLICT)
	if err := s.DeletePlan(ctx, "free"); err != nil {
		t.Errorf("DeletePlan(free): %v", err)
	}
	err = s.DeletePlan(ctx, "free")
	wantCode(t, "DeletePlan twice", err, hail.ENOTFOUND)
	// A revoked key does not hold its plan.
	if err := s.RevokeKey(ctx, "soc1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePlan(ctx, "pro"); err != nil {
		t.Errorf("DeletePlan(pro) after its key was revoked: %v", err)
	}
	if ps, err := s.Plans(ctx); err != nil || len(ps) != 0 {
		t.Errorf("Plans after deleting both = %+v, %v; want none", ps, err)
	}
}

func testKeyLimits(t *testing.T, s store.Store) {
	expires := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	k := store.Key{ID: "k1", Name: "soc1", Hash: hash("a"), Read: []string{coll1}, Created: created,
		Plan: "pro", Expires: expires, AllowIPs: []string{"192.0.2.0/24", "2001:db8::1"}}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	got, err := s.KeyByHash(ctx, k.Hash)
	if err != nil || !equalLimitedKey(got, k) {
		t.Errorf("KeyByHash = %+v, %v; want %+v", got, err, k)
	}

	free, never := "free", time.Time{}
	if err := s.UpdateKey(ctx, "soc1", store.KeyUpdate{Plan: &free}); err != nil {
		t.Fatalf("UpdateKey(plan): %v", err)
	}
	k.Plan = free
	if got, err := s.KeyByHash(ctx, k.Hash); err != nil || !equalLimitedKey(got, k) {
		t.Errorf("after setting the plan, KeyByHash = %+v, %v; want %+v", got, err, k)
	}
	if err := s.UpdateKey(ctx, "soc1", store.KeyUpdate{Expires: &never, AllowIPs: &[]string{}}); err != nil {
		t.Fatalf("UpdateKey(expires, ips): %v", err)
	}
	k.Expires, k.AllowIPs = never, nil
	if got, err := s.KeyByHash(ctx, k.Hash); err != nil || !equalLimitedKey(got, k) {
		t.Errorf("after clearing expiry and addresses, KeyByHash = %+v, %v; want %+v", got, err, k)
	}
	err = s.UpdateKey(ctx, "nobody", store.KeyUpdate{Plan: &free})
	wantCode(t, "UpdateKey of an unknown key", err, hail.ENOTFOUND)
	if err := s.RevokeKey(ctx, "soc1"); err != nil {
		t.Fatal(err)
	}
	err = s.UpdateKey(ctx, "soc1", store.KeyUpdate{Plan: &free})
	wantCode(t, "UpdateKey of a revoked key", err, hail.ENOTFOUND)
}

func testTakeToken(t *testing.T, s store.Store) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	take := func(bucket string, at time.Duration, interval time.Duration, burst int, want time.Duration) {
		t.Helper()
		got, err := s.TakeToken(ctx, bucket, t0.Add(at), interval, burst)
		if err != nil || got != want {
			t.Errorf("TakeToken(%s, t0+%v) = %v, %v; want %v", bucket, at, got, err, want)
		}
	}
	// 3 per minute, burst 3: three at once, then one every 20 s.
	take("a", 0, 20*time.Second, 3, 0)
	take("a", 0, 20*time.Second, 3, 0)
	take("a", time.Second, 20*time.Second, 3, 0)
	take("a", 2*time.Second, 20*time.Second, 3, 18*time.Second)
	take("a", 19*time.Second, 20*time.Second, 3, time.Second) // a refusal takes nothing
	take("a", 20*time.Second, 20*time.Second, 3, 0)
	take("a", 20*time.Second, 20*time.Second, 3, 20*time.Second)
	// Buckets are apart.
	take("b", 0, 20*time.Second, 1, 0)
	take("b", 10*time.Second, 20*time.Second, 1, 10*time.Second)
	// Burst 1 is a minimum interval.
	take("poll", 0, 15*time.Minute, 1, 0)
	take("poll", 14*time.Minute, 15*time.Minute, 1, time.Minute)
	take("poll", 15*time.Minute, 15*time.Minute, 1, 0)
	// A long quiet spell does not bank tokens beyond the burst.
	take("a", time.Hour, 20*time.Second, 3, 0)
	take("a", time.Hour, 20*time.Second, 3, 0)
	take("a", time.Hour, 20*time.Second, 3, 0)
	take("a", time.Hour, 20*time.Second, 3, 20*time.Second)
}

func testActivity(t *testing.T, s store.Store) {
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	deltas := [][]store.Activity{{
		{Key: "soc1", Collection: "ips", First: at(time.Minute), Last: at(2 * time.Minute), Requests: 3, Polls: 2,
			LastPoll: at(2 * time.Minute), Objects: 100, Bytes: 5000, LastAddedAfter: at(-time.Hour),
			LastDateAddedLast: at(time.Minute), Errors: map[int]int64{429: 1}},
		{Key: "soc1", Collection: "", First: at(0), Last: at(0), Requests: 1, Bytes: 300},
		{Key: "soc2", Collection: "ips", First: at(0), Last: at(0), Requests: 1, Errors: map[int]int64{404: 1}},
	}, {
		{Key: "soc1", Collection: "ips", First: at(70 * time.Minute), Last: at(80 * time.Minute), Requests: 2, Polls: 1,
			LastPoll: at(70 * time.Minute), Objects: 20, Bytes: 700, LastAddedAfter: at(time.Minute),
			LastDateAddedLast: at(75 * time.Minute), Errors: map[int]int64{429: 2, 500: 1}},
	}}
	for _, d := range deltas {
		if err := s.RecordActivity(ctx, d); err != nil {
			t.Fatalf("RecordActivity: %v", err)
		}
	}
	if err := s.RecordActivity(ctx, nil); err != nil {
		t.Errorf("RecordActivity(nil): %v", err)
	}
	got, err := s.Activity(ctx, "soc1", at(61*time.Minute))
	if err != nil {
		t.Fatalf("Activity: %v", err)
	}
	want := []store.Activity{
		{Key: "soc1", Collection: "", First: at(0), Last: at(0), Requests: 1, Bytes: 300},
		{Key: "soc1", Collection: "ips", First: at(time.Minute), Last: at(80 * time.Minute), Requests: 5, Polls: 3,
			LastPoll: at(70 * time.Minute), Objects: 120, Bytes: 5700, LastAddedAfter: at(time.Minute),
			LastDateAddedLast: at(75 * time.Minute), Errors: map[int]int64{429: 3, 500: 1},
			Recent: store.ActivityCounts{Requests: 2, Polls: 1, Objects: 20}},
	}
	if !equalActivity(got, want) {
		t.Errorf("Activity(soc1) =\n%+v\nwant\n%+v", got, want)
	}
	if got, err := s.Activity(ctx, "nobody", t0); err != nil || len(got) != 0 {
		t.Errorf("Activity(nobody) = %+v, %v; want none", got, err)
	}
	// Hourly counts older than the retention are forgotten; totals stay.
	late := at(store.ActivityRetention + 3*time.Hour)
	if err := s.RecordActivity(ctx, []store.Activity{{Key: "soc2", Collection: "ips", First: late, Last: late, Requests: 1}}); err != nil {
		t.Fatalf("RecordActivity: %v", err)
	}
	got, err = s.Activity(ctx, "soc1", t0)
	if err != nil || len(got) != 2 || got[1].Requests != 5 || got[1].Recent != (store.ActivityCounts{}) {
		t.Errorf("Activity(soc1) after the retention = %+v, %v; want totals kept, no recent counts", got, err)
	}
}

// equalLimitedKey compares keys, Expires as an instant.
func equalLimitedKey(got, want store.Key) bool {
	if !got.Expires.Equal(want.Expires) {
		return false
	}
	got.Expires, want.Expires = time.Time{}, time.Time{}
	return equalKey(got, want)
}

// equalActivity compares activity lists, times as instants.
func equalActivity(got, want []store.Activity) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		for _, p := range [][2]*time.Time{{&g.First, &w.First}, {&g.Last, &w.Last}, {&g.LastPoll, &w.LastPoll},
			{&g.LastAddedAfter, &w.LastAddedAfter}, {&g.LastDateAddedLast, &w.LastDateAddedLast}} {
			if !p[0].Equal(*p[1]) {
				return false
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if len(g.Errors) == 0 && len(w.Errors) == 0 {
			g.Errors, w.Errors = nil, nil
		}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}
