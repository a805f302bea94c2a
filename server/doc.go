// Package server serves TAXII 2.1 over HTTP from a store.Store.
//
// # Endpoints
//
// Discovery is at /taxii2/ and each API root at /taxii2/{name}/, with the
// endpoints of TAXII 2.1 §4 and §5 below it. Every path is served with and
// without its trailing slash, never redirected. Collections are named in URLs
// by id or alias.
//
// The IOC API, beside TAXII, serves the store's IOC index as plain JSON:
// GET /api/v1/iocs (pages with a cursor), GET and POST /api/v1/iocs/lookup,
// and GET /api/v1/iocs/export (txt, csv or json, streamed). It takes the
// same keys and rights, answers application/json whatever the Accept
// header, and writes errors as {"error": {"code", "message"}}.
//
// Admin keys also manage webhooks there: /api/v1/webhooks lists and creates,
// /api/v1/webhooks/{id} shows with the delivery log, changes (PATCH) and deletes, and its
// pause, resume and test endpoints act (package webhook delivers).
//
// With Config.Metrics, admin keys read Prometheus metrics at GET /metrics.
//
// # Access
//
// A request carries an API key (see auth.Credentials for where) or none.
//   - Wrong credentials: 401, on every path.
//   - No key: public collections can be read. Discovery lists, and an API
//     root and its collections list answer, only the roots that hold a public
//     collection; anything else is 401 with a Basic and a Bearer challenge.
//   - A key: collections it may neither read nor write are absent from lists
//     and answer 404 exactly like missing ones. A write-only key sees its
//     collections with can_read false and gets 403 when reading them; a
//     read-only key gets 403 when adding. Deleting needs both rights or admin
//     (TAXII 2.1 §5.7). Any key may read a status by its id.
//
// # Paging
//
// Pages are keyset pages on date_added, which the store keeps unique. The
// next token is that position as a TAXII timestamp, followed by the query's
// filters when it had any; it is stateless and re-validated on each use, so
// clients may repeat, omit or add filters, or send it back as added_after.
//
// # Deviations
//
// Empty pages carry "objects":[] unless Config.StrictEmpty is set (TAXII 2.1
// §3.7 says to omit the key; some clients fail without it). Requests without
// an Accept header, or with */* or application/json, are served.
package server
