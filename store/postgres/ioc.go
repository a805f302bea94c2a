package postgres

import (
	"context"
	"errors"

	"hail/store"
)

// IOCs returns one page of a collection's IOC index matching f.
func (db *DB) IOCs(ctx context.Context, collectionID string, f store.IOCFilter) (store.IOCPage, error) {
	return store.IOCPage{}, errIOCUnimplemented
}

// LookupIOCs finds the rows of a collection's IOC index that answer values.
func (db *DB) LookupIOCs(ctx context.Context, collectionID string, values []store.IOCValue, f store.IOCFilter) ([]store.IOCMatch, error) {
	return nil, errIOCUnimplemented
}

var errIOCUnimplemented = errors.New("IOC index: not implemented yet")
