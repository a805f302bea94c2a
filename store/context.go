package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"hail/stix"
)

// IsContextType reports whether objects of type typ are context: the
// identities and marking definitions that travel into a filter collection
// with the versions that name them as creator or marking.
func IsContextType(typ string) bool { return typ == "identity" || typ == "marking-definition" }

// IsContextID reports whether id names a context object.
func IsContextID(id string) bool {
	typ, _, ok := strings.Cut(id, "--")
	return ok && IsContextType(typ)
}

// ContextRefs returns the context objects info's object names as creator
// or marking, each once, creator first.
func (info ObjectInfo) ContextRefs() []string {
	var refs []string
	for i := -1; i < len(info.MarkingRefs); i++ {
		r := info.CreatedBy
		if i >= 0 {
			r = info.MarkingRefs[i]
		}
		if IsContextID(r) && !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	return refs
}

// ContextUse finds the context objects a filter collection holds that
// nothing it holds names any more: what a refilter leaves behind once the
// versions that brought them have gone. A context object stays when one of
// its versions matches the filter itself, or when a version of another
// object the collection holds names it.
type ContextUse struct {
	filter   CollectionFilter
	now      time.Time
	held     map[string]bool // context objects held, true once one of their versions matches
	referred map[string]bool
	pending  int // held, unmatched and not referred to: len(Candidates())
}

// NewContextUse starts a search of a collection with filter f at now.
func NewContextUse(f CollectionFilter, now time.Time) *ContextUse {
	return &ContextUse{filter: f, now: now, held: make(map[string]bool), referred: make(map[string]bool)}
}

// Hold records a version of a context object that the collection holds.
func (u *ContextUse) Hold(o stix.Object, info ObjectInfo) {
	matched, seen := u.held[o.ID]
	if matched {
		return
	}
	now := u.filter.Match(o, info, u.now)
	u.held[o.ID] = now
	switch {
	case u.referred[o.ID]:
	case !seen && !now:
		u.pending++
	case seen && now:
		u.pending--
	}
}

// Pending returns how many context objects are candidates, without
// listing them: the scan goes on while some are.
func (u *ContextUse) Pending() int { return u.pending }

// Candidates returns the context objects held, none of whose versions
// Hold saw match, that no version See saw names: those still to be looked
// for, sorted.
func (u *ContextUse) Candidates() []string {
	var ids []string
	for id, matched := range u.held {
		if !matched && !u.referred[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// See records a version the collection holds. What a candidate's own
// versions name does not count: it came in as context of something else,
// which brought no context of its own.
func (u *ContextUse) See(o stix.Object, info ObjectInfo) {
	if matched, ok := u.held[o.ID]; ok && !matched {
		return
	}
	for _, r := range info.ContextRefs() {
		if u.referred[r] {
			continue
		}
		u.referred[r] = true
		if matched, ok := u.held[r]; ok && !matched {
			u.pending--
		}
	}
}

// HeldVersion is a version a collection holds, with its properties.
type HeldVersion struct {
	Object stix.Object
	Info   ObjectInfo
}

// ContextReader reads what one filter collection holds, for ContextUse.
type ContextReader interface {
	// Context returns the versions of identities and marking definitions
	// the collection holds with date_added in (after, end].
	Context(ctx context.Context, after, end int64) ([]HeldVersion, error)
	// Range returns the first limit versions (all when limit is 0) the
	// collection holds with date_added in (after, end], oldest first, and
	// the date_added of the last.
	Range(ctx context.Context, after, end int64, limit int) ([]HeldVersion, int64, error)
}

// Scan reads through r what the collection holds with date_added in
// (after, end]: Hold for its context objects, then See for every version,
// limit at a time (0: at once), until the end or until no candidate is
// left.
func (u *ContextUse) Scan(ctx context.Context, r ContextReader, after, end int64, limit int) error {
	held, err := r.Context(ctx, after, end)
	if err != nil {
		return err
	}
	for _, v := range held {
		u.Hold(v.Object, v.Info)
	}
	for after < end && u.pending > 0 {
		vs, last, err := r.Range(ctx, after, end, limit)
		if err != nil {
			return err
		}
		for _, v := range vs {
			u.See(v.Object, v.Info)
		}
		if after = last; limit == 0 || len(vs) < limit {
			after = end
		}
	}
	return nil
}
