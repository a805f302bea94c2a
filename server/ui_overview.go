package server

// The dashboard's overview (GET /ui/): the collections a key may see, per
// API root, with their counts, and for an admin the feeds and webhooks.

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"hail/store"
)

// uiRoot is one API root on the overview.
type uiRoot struct {
	Name, Title, URL string
	Default          bool
	Collections      []uiCollectionRow
	StatsAge         string
}

// uiCollectionRow is one collection on the overview.
type uiCollectionRow struct {
	store.Collection
	Link       string
	FilterText string
	Counted    bool
	Stats      store.CollectionStats
	CanRead    bool
	CanWrite   bool
}

// uiOverview is the view of the overview page.
type uiOverview struct {
	Roots    []uiRoot
	Admin    bool
	Feeds    []uiFeed
	Webhooks []uiWebhook
}

// uiFeed is one feed on an admin's overview.
type uiFeed struct {
	Name, Kind, Source, Collection, Every, Error, Link string
	LastRun                                            store.FeedRun
	NextRun                                            time.Time
}

// newUIFeed is feed f, into the collection named collection, as a table
// row shows it: the source without secrets.
func newUIFeed(f store.Feed, collection string) uiFeed {
	return uiFeed{Name: f.Name, Kind: f.Kind, Source: displayURL(f.URL), Collection: collection, Every: f.Every.String(),
		Error: f.LastRun.Error, LastRun: f.LastRun, NextRun: f.NextRun, Link: uiFeedLink(f.Name)}
}

// uiWebhook is one webhook on an admin's overview.
type uiWebhook struct {
	ID, Receiver, Collection, Link string
	store.WebhookState
}

// newUIWebhook is webhook h, of the collection named collection, as a
// table row shows it: the receiver without secrets.
func newUIWebhook(h store.Webhook, collection string) uiWebhook {
	return uiWebhook{ID: h.ID, Receiver: displayURL(h.URL), Collection: collection, WebhookState: h.State, Link: uiWebhookLink(h.ID)}
}

// uiOverview lists the collections the key may see, per API root, with
// their counts; an admin also sees the feeds and webhooks.
func (s *Server) uiOverview(w http.ResponseWriter, r *http.Request) {
	k := requestKey(r.Context()) // nil: a visitor, who sees the public collections
	ctx := r.Context()
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	slices.SortStableFunc(roots, func(a, b store.APIRoot) int { return cmp.Compare(boolRank(a.Default), boolRank(b.Default)) })
	admin := k != nil && k.Admin
	v := uiOverview{Admin: admin}
	names := map[string]string{} // collection id → "root/alias or title", for feeds and webhooks
	base := s.baseURL(r)
	for _, root := range roots {
		cols, err := s.store.Collections(ctx, root.Name)
		if err != nil {
			s.error(w, r, err)
			return
		}
		ur := uiRoot{Name: root.Name, Title: cmp.Or(root.Title, root.Name), URL: base + "/taxii2/" + root.Name + "/", Default: root.Default}
		for _, c := range cols {
			names[c.ID] = shortName(c)
			if !canRead(k, c) && !canWrite(k, c) {
				continue
			}
			ur.Collections = append(ur.Collections, uiCollectionRow{Collection: c, Link: uiCollectionLink(c),
				FilterText: filterText(c), CanRead: canRead(k, c), CanWrite: canWrite(k, c)})
		}
		if len(ur.Collections) == 0 && !admin {
			continue // an API root the key sees nothing of is not shown
		}
		v.Roots = append(v.Roots, ur)
	}
	if k == nil && len(v.Roots) == 0 {
		http.Redirect(w, r, uiPrefix+"login", http.StatusSeeOther) // nothing public: sign in
		return
	}
	// Count every readable collection at once, waiting a little for counts
	// that are not at hand (statsCache).
	var ids []string
	for _, ur := range v.Roots {
		for _, row := range ur.Collections {
			if row.CanRead {
				ids = append(ids, row.ID)
			}
		}
	}
	counts := s.ui.stats.get(ctx, ids...)
	for i := range v.Roots {
		var oldest time.Time
		for j := range v.Roots[i].Collections {
			row := &v.Roots[i].Collections[j]
			if c, ok := counts[row.ID]; ok {
				row.Counted, row.Stats = true, c.stats
				if oldest.IsZero() || c.at.Before(oldest) {
					oldest = c.at
				}
			}
		}
		if !oldest.IsZero() && s.cfg.Now().Sub(oldest) >= time.Second {
			v.Roots[i].StatsAge = oldest.UTC().Format("15:04:05Z")
		}
	}
	if admin {
		if v.Feeds, err = s.uiFeeds(ctx, names); err == nil {
			v.Webhooks, err = s.uiWebhooks(ctx, names)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "overview", "Collections", "collections", v)
}

// uiFeeds lists the feeds with their last runs. A source URL is shown
// without its user information or query, which may hold credentials.
func (s *Server) uiFeeds(ctx context.Context, names map[string]string) ([]uiFeed, error) {
	feeds, err := s.store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]uiFeed, 0, len(feeds))
	for _, f := range feeds {
		out = append(out, newUIFeed(f, cmp.Or(names[f.CollectionID], f.CollectionID)))
	}
	return out, nil
}

// uiWebhooks lists the webhooks with where their deliveries stand.
func (s *Server) uiWebhooks(ctx context.Context, names map[string]string) ([]uiWebhook, error) {
	hooks, err := s.store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]uiWebhook, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, newUIWebhook(h, cmp.Or(names[h.CollectionID], h.CollectionID)))
	}
	return out, nil
}

// uiChoice is one option of a select.
type uiChoice struct {
	Value, Label string
	Selected     bool
}
