// Package pattern parses STIX 2.1 patterns (STIX 2.1 §9) and extracts the
// indicators of compromise they name.
//
// Parse builds a tree of observation and comparison expressions; String
// prints it back in a canonical form that Parse accepts. Observables lists
// the addresses, domains, URLs, hashes and other values a pattern tests for
// equality, normalised by the same rules as Normalize and Detect, so that a
// value imported from a pattern, from an IOC list or typed into a lookup
// compares equal byte for byte.
//
// The package does not import hail/stix: stix uses it to validate indicators.
package pattern
