// Package ingest turns what threat-intelligence producers publish into STIX
// objects hail can store: STIX bundles and TAXII envelopes, read as a stream,
// and plain or CSV IOC lists, read line by line and made into indicators.
//
// It holds no store: callers (the import command, the import API, feeds)
// validate what it yields with stix.Parse and pass it to store.Store.
//
// # STIX input
//
// ReadObjects and Reader walk the input with a json.Decoder and hand over one
// object at a time, so that a bundle of any size is read in memory bounded by
// its largest object. Reader.Source tells whether the input was a STIX 2.0
// bundle, for callers that convert.
//
// # IOC lists
//
// ReadList recognises, on each line or in each indicator column: IPv4 and
// IPv6 addresses and CIDR blocks, address:port, domains (with an optional
// port), URLs with or without a scheme, e-mail addresses, MD5, SHA-1,
// SHA-256 and SHA-512 digests, and CVE ids. Defanged spellings (hxxp,
// [.], (.), [dot], [:], [@], [at]) are undone. Lines it cannot use are
// reported with their number and the reason, and never stop the rest.
//
// # Re-importing a list
//
// Indicator derives each object's id from (source, type, value), so a value
// imported twice names the same object. Its created, modified and valid_from
// are the import time, however, and the store keeps every (id, modified)
// version. A caller that re-imports lists therefore fetches the latest stored
// version of each id and passes both through Revise, which keeps the stored
// version when nothing but the time has changed:
//
//	obj, _ := ingest.Indicator(ioc, opt)
//	prev := latest[obj.ID] // zero Object when not stored yet
//	obj, changed, err := ingest.Revise(prev, obj)
//	if err == nil && changed {
//		batch = append(batch, obj)
//	}
//
// A change of confidence, labels, TLP, description or validity makes one
// new version, with the first import's created and valid_from.
package ingest
