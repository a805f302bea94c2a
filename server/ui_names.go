package server

// How the dashboard lists and names collections, and shows URLs.

import (
	"cmp"
	"context"
	"net/url"
	"slices"

	"hail"
	"hail/store"
)

// allCollections lists every collection of every API root, the default
// root first.
func (s *Server) allCollections(ctx context.Context) ([]store.Collection, error) {
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(roots, func(a, b store.APIRoot) int { return cmp.Compare(boolRank(a.Default), boolRank(b.Default)) })
	var out []store.Collection
	for _, root := range roots {
		cols, err := s.store.Collections(ctx, root.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, cols...)
	}
	return out, nil
}

// readableCollections lists every collection k may read, default API root
// first.
func (s *Server) readableCollections(ctx context.Context, k *store.Key) ([]store.Collection, error) {
	cols, err := s.allCollections(ctx)
	return slices.DeleteFunc(cols, func(c store.Collection) bool { return !canRead(k, c) }), err
}

// collectionNames names every collection by its id (shortName).
func (s *Server) collectionNames(ctx context.Context) (map[string]string, error) {
	cols, err := s.allCollections(ctx)
	names := make(map[string]string, len(cols))
	for _, c := range cols {
		names[c.ID] = shortName(c)
	}
	return names, err
}

// collectionName is shortName of the collection with that id, or the id
// when there is none.
func (s *Server) collectionName(ctx context.Context, id string) (string, error) {
	c, err := s.findCollection(ctx, id)
	switch {
	case hail.ErrorCode(err) == hail.ENOTFOUND:
		return id, nil
	case err != nil:
		return "", err
	}
	return shortName(c), nil
}

// shortName names c in a table cell: "root/alias", or "root/title".
func shortName(c store.Collection) string { return c.APIRoot + "/" + cmp.Or(c.Alias, c.Title) }

// collectionLabel names c in a list of choices: "root / Title (alias)".
func collectionLabel(c store.Collection) string {
	label := c.APIRoot + " / " + c.Title
	if c.Alias != "" {
		label += " (" + c.Alias + ")"
	}
	return label
}

// filterText is a filter collection's filter as its owner wrote it.
func filterText(c store.Collection) string {
	if c.Kind != store.KindFilter {
		return ""
	}
	f, err := store.StoredFilter(c.ID, c.Kind, c.Filter)
	switch {
	case err != nil:
		return c.Filter
	case f.IsEmpty():
		return "every object"
	}
	return f.String()
}

// displayURL is u without user information or query, for pages that must
// not show secrets a URL may carry.
func displayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unreadable URL)"
	}
	hidden := p.User != nil || p.RawQuery != ""
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	if hidden {
		return p.String() + " …"
	}
	return p.String()
}
