package webhook

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"hail/store"
	"hail/taxii"
)

// deliveryNamespace derives delivery ids (UUIDv5-style, SHA-1) from a
// webhook id and the range of entries a batch covers, so that every retry
// of a batch carries the same id.
var deliveryNamespace = uuid.MustParse("6b1d3f0e-8c2a-4e5b-9d7f-0a1c2e3b4d5f")

// DeliveryID returns the id of the delivery of webhook id's entries in
// (after, last].
func DeliveryID(id string, after, last time.Time) string {
	b := make([]byte, 0, len(id)+42)
	b = append(b, id...)
	b = append(b, '/')
	b = strconv.AppendInt(b, micros(after), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, micros(last), 10)
	return uuid.NewSHA1(deliveryNamespace, b).String()
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Envelope is the JSON body of a delivery, for receivers written in Go.
// Objects hold the exact bytes the server stores.
//
//	{"delivery":"…","webhook":"…","collection":"…","test":false,"more":false,
//	 "date_added_first":"…","date_added_last":"…","objects":[…]}
type Envelope struct {
	Delivery       string `json:"delivery"`
	Webhook        string `json:"webhook"`
	Collection     string `json:"collection"`
	Test           bool   `json:"test"`
	More           bool   `json:"more"` // entries remain after this batch
	DateAddedFirst string `json:"date_added_first,omitempty"`
	DateAddedLast  string `json:"date_added_last,omitempty"`
	// Objects are STIX objects, oldest date_added first.
	Objects []json.RawMessage `json:"objects"`
}

// AppendEnvelope appends the body of a delivery of entries to buf, writing
// each object's stored bytes as they are.
func AppendEnvelope(buf []byte, delivery string, w store.Webhook, entries []store.Entry, more, test bool) []byte {
	buf = append(buf, `{"delivery":`...)
	buf = appendString(buf, delivery)
	buf = append(buf, `,"webhook":`...)
	buf = appendString(buf, w.ID)
	buf = append(buf, `,"collection":`...)
	buf = appendString(buf, w.CollectionID)
	buf = append(buf, `,"test":`...)
	buf = strconv.AppendBool(buf, test)
	buf = append(buf, `,"more":`...)
	buf = strconv.AppendBool(buf, more)
	if n := len(entries); n > 0 {
		buf = append(buf, `,"date_added_first":"`...)
		buf = append(buf, taxii.FormatTimestamp(entries[0].DateAdded)...)
		buf = append(buf, `","date_added_last":"`...)
		buf = append(buf, taxii.FormatTimestamp(entries[n-1].DateAdded)...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"objects":[`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.Object.Raw...)
	}
	return append(buf, "]}"...)
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}
