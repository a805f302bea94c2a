package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hail/notify"
)

// pending reports whether a wake-up waits on s, consuming it.
func pending(s *notify.Subscription) bool {
	select {
	case _, ok := <-s.C():
		return ok
	default:
		return false
	}
}

func TestHubPublish(t *testing.T) {
	h := notify.NewHub()
	defer h.Close()
	a, b, any := h.Subscribe("a"), h.Subscribe("b"), h.Subscribe(notify.AnyCollection)
	defer a.Close()
	defer b.Close()
	defer any.Close()

	h.Publish(context.Background(), "a")
	if got := []bool{pending(a), pending(b), pending(any)}; got[0] != true || got[1] != false || got[2] != true {
		t.Errorf("after Publish(a): pending a, b, any = %v, want [true false true]", got)
	}
	if pending(a) || pending(any) {
		t.Errorf("a wake-up was delivered twice")
	}
}

func TestHubCoalesces(t *testing.T) {
	h := notify.NewHub()
	defer h.Close()
	s := h.Subscribe("a")
	defer s.Close()
	for range 100 {
		h.Publish(context.Background(), "a") // must not block on a subscriber that never reads
	}
	if !pending(s) {
		t.Errorf("no wake-up pending after 100 publishes")
	}
	if pending(s) {
		t.Errorf("a second wake-up was pending; want them coalesced into one")
	}
}

func TestHubWakeAll(t *testing.T) {
	h := notify.NewHub()
	defer h.Close()
	subs := []*notify.Subscription{h.Subscribe("a"), h.Subscribe("b"), h.Subscribe(notify.AnyCollection)}
	h.WakeAll()
	for i, s := range subs {
		if !pending(s) {
			t.Errorf("subscription %d not woken by WakeAll", i)
		}
		s.Close()
	}
}

func TestSubscriptionClose(t *testing.T) {
	h := notify.NewHub()
	defer h.Close()
	s := h.Subscribe("a")
	s.Close()
	s.Close()
	if _, ok := <-s.C(); ok {
		t.Errorf("channel of a closed subscription delivered a value, want it closed")
	}
	h.Publish(context.Background(), "a") // no subscriber left; must not panic
	if n := h.Subscribers(); n != 0 {
		t.Errorf("Subscribers() = %d after Close, want 0", n)
	}
}

func TestHubClose(t *testing.T) {
	h := notify.NewHub()
	s := h.Subscribe("a")
	h.Close()
	if _, ok := <-s.C(); ok {
		t.Errorf("subscription open after the hub closed")
	}
	s.Close() // after the hub closed: a no-op
	late := h.Subscribe("a")
	if _, ok := <-late.C(); ok {
		t.Errorf("a subscription made after Close is open, want it closed")
	}
	h.Publish(context.Background(), "a")
	h.WakeAll()
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestHubConcurrent runs publishers, subscribers and Close together; the race
// detector is its judge.
func TestHubConcurrent(t *testing.T) {
	h := notify.NewHub()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 200 {
				h.Publish(context.Background(), fmt.Sprint(i%3))
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				s := h.Subscribe(fmt.Sprint(i % 3))
				pending(s)
				s.Close()
			}
		}()
	}
	wg.Wait()
	h.Close()
	if n := h.Subscribers(); n != 0 {
		t.Errorf("Subscribers() = %d at the end, want 0", n)
	}
}

// BenchmarkHubPublish publishes to a collection with 1,000 subscribers, half
// of them with a wake-up already pending (slow readers).
func BenchmarkHubPublish(b *testing.B) {
	h := notify.NewHub()
	defer h.Close()
	subs := make([]*notify.Subscription, 1000)
	for i := range subs {
		subs[i] = h.Subscribe("a")
	}
	ctx := context.Background()
	for b.Loop() {
		h.Publish(ctx, "a")
		for _, s := range subs[:500] {
			pending(s)
		}
	}
}

func TestSubscriptionWoken(t *testing.T) {
	h := notify.NewHub()
	defer h.Close()
	s := h.Subscribe("a")
	if w := s.Woken(); !w.IsZero() {
		t.Errorf("Woken() = %v before any wake-up, want zero", w)
	}
	before := time.Now()
	h.Publish(context.Background(), "a")
	<-s.C()
	after := time.Now()
	if w := s.Woken(); w.Before(before) || w.After(after) {
		t.Errorf("Woken() = %v, want between %v and %v", w, before, after)
	}
	h.Publish(context.Background(), "b")
	if w := s.Woken(); w.After(after) {
		t.Errorf("Woken() moved to %v on a commit to another collection", w)
	}
}
