// Package feed runs scheduled pulls (store.Feed) into local collections:
// TAXII 2.1 collections walked from a high-water mark of added_after, and
// STIX bundles and IOC lists fetched over HTTP with conditional requests,
// so that a restart resumes without fetching again what was stored.
//
// A Runner runs one feed and says what happened; a Scheduler finds the
// feeds that are due, claims each through the store (so that replicas
// sharing a database run a feed once), runs it and records the run. The
// scheduler's clock is injectable: tests call RunDue with a chosen Now
// instead of waiting.
//
// Snapshot imports an IOC list as the complete current list of its source:
// indicators of that source the collection holds and the list no longer
// names are revoked.
package feed
