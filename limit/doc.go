// Package limit holds what hail needs to hold API keys to their plans
// (store.Plan) without the database or HTTP: rates and their text form
// ("60/min"), the interval and tolerance of the generic cell rate
// algorithm that store.Store.TakeToken runs, source address checks, and
// the Recorder that turns every request into per-key, per-collection
// activity written in batches.
//
// # Accuracy
//
// Rate limits are exact across replicas: each admission is one atomic
// update of a row the replicas share (store.Store.TakeToken), so a key
// gets at most Burst requests at once and one per Rate interval after,
// however many replicas it spreads over. The cost is one database write
// per limited request; keys on the unrestricted plan pay nothing.
//
// Activity is approximate in time, not in counts: a Recorder holds deltas
// in memory and writes them every few seconds, so a replica that dies
// loses at most that much, and hourly counts (Activity.Recent) put a
// delta in the hour of its latest request.
package limit
