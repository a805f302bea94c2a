package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"hail"
	"hail/stix"
)

// FormatMISP names a MISP event export: the JSON of one event
// ({"Event": {…}}), of a search (/events/restSearch: {"response": [{"Event":
// {…}}, …]}), or an array of events.
const FormatMISP = "misp"

// MISPEvent is what an import reads of one MISP event.
type MISPEvent struct {
	Info string `json:"info"`
	UUID string `json:"uuid"`
	// Orgc is the organisation that created the event, Org the one that
	// holds this copy.
	Orgc      mispOrg         `json:"Orgc"`
	Org       mispOrg         `json:"Org"`
	Tags      []mispTag       `json:"Tag"`
	Attribute []MISPAttribute `json:"Attribute"`
	Object    []struct {
		Name      string          `json:"name"`
		Attribute []MISPAttribute `json:"Attribute"`
	} `json:"Object"`
}

// MISPAttribute is one attribute of an event or of one of its objects.
type MISPAttribute struct {
	Type     string   `json:"type"`
	Category string   `json:"category"`
	Value    mispText `json:"value"`
	Comment  string   `json:"comment"`
	UUID     string   `json:"uuid"`
	// Timestamp is the attribute's last change (Unix seconds), FirstSeen
	// when its value was first seen (RFC 3339), if the publisher says.
	Timestamp mispText  `json:"timestamp"`
	FirstSeen mispText  `json:"first_seen"`
	ToIDs     mispBool  `json:"to_ids"`
	Deleted   mispBool  `json:"deleted"`
	Tags      []mispTag `json:"Tag"`
}

// mispText reads a value some generators write as a number (a port) where
// MISP writes a string.
type mispText string

func (t *mispText) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*t = mispText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err == nil {
		*t = mispText(n)
		return nil
	}
	if string(data) == "null" {
		*t = ""
		return nil
	}
	return hail.Errorf(hail.EINVALID, "MISP export: an attribute value is %s, not a string.", cut(string(data), 40))
}

type mispOrg struct {
	Name string `json:"name"`
}

type mispTag struct {
	Name string `json:"name"`
}

// mispBool reads a MISP flag: true and false, or "1" and "0" and 1 and 0
// as older exports write them.
type mispBool bool

func (b *mispBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return hail.Errorf(hail.EINVALID, "MISP export: %s is not a flag (true, false, 1 or 0).", cut(string(data), 40))
	}
	return nil
}

// attributes returns the event's attributes, its objects' after its own,
// in the order of the export.
func (ev *MISPEvent) attributes() []MISPAttribute {
	out := ev.Attribute
	for _, o := range ev.Object {
		out = append(out, o.Attribute...)
	}
	return out
}

// SniffMISP reports whether head, the start of a JSON input, opens a MISP
// event export: an object whose first key is "Event" or "response".
func SniffMISP(head []byte) bool {
	if !SniffJSON(head) {
		return false
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	head = bytes.TrimLeft(head[1:], " \t\r\n")
	return bytes.HasPrefix(head, []byte(`"Event"`)) || bytes.HasPrefix(head, []byte(`"response"`))
}

// SniffJSON reports whether head, the first bytes of an input, begins as a
// JSON object or a list of objects does: "{" and a key or "}", "[" and
// "{" or "]", after a BOM and white space. A bare "[" is not enough:
// "[2001:db8::1]:443" begins a list of IPv6 addresses with ports.
func SniffJSON(head []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(b) == 0 || (b[0] != '{' && b[0] != '[') {
		return false
	}
	rest := bytes.TrimLeft(b[1:], " \t\r\n")
	if len(rest) == 0 {
		return true // the head ends there: a huge indentation, say
	}
	if b[0] == '{' {
		return rest[0] == '"' || rest[0] == '}'
	}
	return rest[0] == '{' || rest[0] == ']'
}

// ReadMISP calls fn for each event of a MISP export in r (see FormatMISP),
// in order, decoding one event at a time: memory is bounded by the largest
// event. It returns the first error fn returns, unchanged, and EINVALID
// for input that is no MISP export.
func ReadMISP(r io.Reader, fn func(*MISPEvent) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	dec := json.NewDecoder(br)
	events := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if events == 0 {
				return hail.Errorf(hail.EINVALID, "The MISP export holds no event.")
			}
			return nil
		}
		if err != nil {
			return mispSyntax(err)
		}
		switch tok {
		case json.Delim('{'):
			n, err := readMISPObject(dec, fn)
			events += n
			if err != nil {
				return err
			}
		case json.Delim('['):
			for dec.More() {
				if err := readMISPElement(dec, fn); err != nil {
					return err
				}
				events++
			}
			if _, err := dec.Token(); err != nil {
				return mispSyntax(err)
			}
		default:
			return hail.Errorf(hail.EINVALID, "A MISP export is a JSON object or array, not %v.", tok)
		}
	}
}

// readMISPObject reads the keys of a top-level object, whose "{" was read:
// an event under "Event", events under "response".
func readMISPObject(dec *json.Decoder, fn func(*MISPEvent) error) (int, error) {
	events := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return events, mispSyntax(err)
		}
		switch tok {
		case "Event":
			var ev MISPEvent
			if err := dec.Decode(&ev); err != nil {
				return events, mispSyntax(err)
			}
			events++
			if err := fn(&ev); err != nil {
				return events, err
			}
		case "response":
			tok, err := dec.Token()
			if err != nil {
				return events, mispSyntax(err)
			}
			if tok == json.Delim('{') {
				// An attribute search: {"response": {"Attribute": […]}}.
				n, err := readMISPAttributes(dec, fn)
				events += n
				if err != nil {
					return events, err
				}
				continue
			}
			if tok != json.Delim('[') {
				return events, hail.Errorf(hail.EINVALID, `The MISP export's "response" is not an array of events.`)
			}
			for dec.More() {
				if err := readMISPElement(dec, fn); err != nil {
					return events, err
				}
				events++
			}
			if _, err := dec.Token(); err != nil {
				return events, mispSyntax(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return events, mispSyntax(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return events, mispSyntax(err)
	}
	if events == 0 {
		return 0, hail.Errorf(hail.EINVALID, `The JSON object holds no MISP event: no "Event" or "response".`)
	}
	return events, nil
}

// readMISPAttributes reads the object of an attribute search's
// "response", whose "{" was read: each attribute of its "Attribute" array,
// with the event it names, is passed to fn as an event of one attribute.
// It returns how many it passed.
func readMISPAttributes(dec *json.Decoder, fn func(*MISPEvent) error) (int, error) {
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n, mispSyntax(err)
		}
		if tok != "Attribute" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return n, mispSyntax(err)
			}
			continue
		}
		if tok, err := dec.Token(); err != nil {
			return n, mispSyntax(err)
		} else if tok != json.Delim('[') {
			return n, hail.Errorf(hail.EINVALID, `The MISP export's "Attribute" is not an array.`)
		}
		for dec.More() {
			var a struct {
				MISPAttribute
				Event MISPEvent `json:"Event"`
			}
			if err := dec.Decode(&a); err != nil {
				return n, mispSyntax(err)
			}
			ev := a.Event
			ev.Attribute, ev.Object = []MISPAttribute{a.MISPAttribute}, nil
			n++
			if err := fn(&ev); err != nil {
				return n, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return n, mispSyntax(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return n, mispSyntax(err)
	}
	return n, nil
}

// readMISPElement reads one element of an array of events: {"Event": {…}}
// or the event itself.
func readMISPElement(dec *json.Decoder, fn func(*MISPEvent) error) error {
	var wrapped struct {
		Event *MISPEvent `json:"Event"`
		MISPEvent
	}
	if err := dec.Decode(&wrapped); err != nil {
		return mispSyntax(err)
	}
	ev := wrapped.Event
	if ev == nil {
		ev = &wrapped.MISPEvent
	}
	return fn(ev)
}

func mispSyntax(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return hail.Errorf(hail.EINVALID, "Malformed MISP export at byte %d: %v.", se.Offset, err)
	case errors.As(err, &te):
		return hail.Errorf(hail.EINVALID, "MISP export: %q cannot be a JSON %s.", te.Field, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return hail.Errorf(hail.EINVALID, "The MISP export ends early.")
	}
	return err
}

// mispValue says how a MISP attribute type holds its indicator values:
// the whole value, or a part of a composite "a|b".
type mispValue int

const (
	mispWhole    mispValue = iota + 1
	mispSecond             // filename|md5: the digest
	mispHostPort           // ip-dst|port: host and port
	mispBoth               // domain|ip: each part
)

// mispTypes maps the MISP attribute types that carry indicators to how
// their values read; MISP's other types (text, filename, port, link,
// regkey and the like) describe rather than detect.
var mispTypes = map[string]mispValue{
	"ip-src": mispWhole, "ip-dst": mispWhole, "domain": mispWhole, "hostname": mispWhole, "url": mispWhole,
	"md5": mispWhole, "sha1": mispWhole, "sha256": mispWhole, "sha512": mispWhole,
	"email": mispWhole, "email-src": mispWhole, "email-dst": mispWhole, "email-reply-to": mispWhole,
	"whois-registrant-email": mispWhole, "dns-soa-email": mispWhole, "vulnerability": mispWhole,
	"onion-address": mispWhole,
	"filename|md5":  mispSecond, "filename|sha1": mispSecond, "filename|sha256": mispSecond,
	"filename|sha512": mispSecond, "malware-sample": mispSecond, // filename|md5
	"ip-src|port": mispHostPort, "ip-dst|port": mispHostPort, "hostname|port": mispHostPort,
	"domain|ip": mispBoth,
}

// mispKinds are the IOC types a MISP type may be detected as: a value
// that reads as another is the export's mistake, not an indicator.
var mispKinds = map[string][]string{
	"ip-src": {TypeIPv4, TypeIPv6, TypeCIDR}, "ip-dst": {TypeIPv4, TypeIPv6, TypeCIDR},
	"ip-src|port": {TypeIPv4, TypeIPv6}, "ip-dst|port": {TypeIPv4, TypeIPv6},
	"domain": {TypeDomain}, "hostname": {TypeDomain}, "hostname|port": {TypeDomain},
	"domain|ip": {TypeDomain, TypeIPv4, TypeIPv6},
	"url":       {TypeURL, TypeDomain, TypeIPv4, TypeIPv6},
	"md5":       {TypeMD5}, "filename|md5": {TypeMD5}, "sha1": {TypeSHA1}, "filename|sha1": {TypeSHA1},
	"sha256": {TypeSHA256}, "filename|sha256": {TypeSHA256}, "sha512": {TypeSHA512}, "filename|sha512": {TypeSHA512},
	"email": {TypeEmail}, "email-src": {TypeEmail}, "email-dst": {TypeEmail}, "email-reply-to": {TypeEmail},
	"whois-registrant-email": {TypeEmail}, "dns-soa-email": {TypeEmail}, "vulnerability": {TypeCVE},
	"onion-address": {TypeDomain}, "malware-sample": {TypeMD5},
}

// iocs returns the indicators an attribute carries, or why it carries
// none.
func (a MISPAttribute) iocs() ([]IOC, string) {
	how, ok := mispTypes[a.Type]
	if !ok {
		return nil, fmt.Sprintf("MISP type %s is not an indicator type", a.Type)
	}
	value := string(a.Value)
	values := []string{value}
	if how != mispWhole {
		i := strings.LastIndexByte(value, '|')
		if i < 0 {
			return nil, fmt.Sprintf("MISP type %s needs a value such as a|b, not %q", a.Type, truncateText(value))
		}
		first, second := value[:i], value[i+1:]
		switch how {
		case mispSecond:
			values = []string{second}
		case mispHostPort:
			if strings.Contains(first, ":") {
				first = "[" + first + "]" // an IPv6 address
			}
			values = []string{first + ":" + second}
		case mispBoth:
			values = []string{first, second}
		}
	}
	out := make([]IOC, 0, len(values))
	for _, v := range values {
		ioc, reason := detect(v)
		if reason != "" {
			return nil, fmt.Sprintf("%s %q: %s", a.Type, truncateText(v), reason)
		}
		kinds := mispKinds[a.Type]
		if !slices.Contains(kinds, ioc.Type) {
			return nil, fmt.Sprintf("%s %q reads as %s, not %s", a.Type, truncateText(v), ioc.Type, strings.Join(kinds, " or "))
		}
		ioc.UUID = a.indicatorUUID(len(out), ioc)
		ioc.ValidFrom = a.seen()
		out = append(out, ioc)
	}
	return out, ""
}

// seen is when the attribute's value was first seen, as far as the
// export tells: its first_seen, else its timestamp; zero when neither
// reads. Its indicator is valid from then, so that a consumer that takes
// only recent indicators (Sentinel takes a month's) does not take a
// years-old report's as fresh.
func (a MISPAttribute) seen() time.Time {
	if t, err := time.Parse(time.RFC3339Nano, string(a.FirstSeen)); err == nil {
		return t.UTC()
	}
	if n, err := strconv.ParseInt(string(a.Timestamp), 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC()
	}
	return time.Time{}
}

// indicatorUUID is the UUID of the id of the n-th indicator an attribute
// carries: the attribute's own for the first, as MISP's STIX export names
// the indicator of an attribute, so that importing either gives one
// object; for the second of a domain|ip, and for an attribute without a
// usable uuid, one derived from the attribute and the value. "" for none:
// the id then derives from (source, type, value) as a list's does.
func (a MISPAttribute) indicatorUUID(n int, ioc IOC) string {
	u, err := uuid.Parse(a.UUID)
	if err != nil {
		return ""
	}
	if n == 0 {
		return u.String()
	}
	name, _ := json.Marshal([]string{"misp", u.String(), ioc.Type, ioc.Value})
	return uuid.NewSHA1(Namespace, name).String()
}

func truncateText(s string) string {
	if len(s) > 80 {
		return cut(s, 77) + "..."
	}
	return s
}

// tlpRank orders TLP levels from the least to the most restrictive.
var tlpRank = map[string]int{"clear": 1, "white": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}

// mispMarking splits tags into the most restrictive TLP they name (the
// tag as written, "" for none) and the others, which become labels.
func mispMarking(tags []mispTag) (tlp string, labels []string) {
	rank := 0
	for _, t := range tags {
		name := strings.TrimSpace(t.Name)
		if name == "" {
			continue
		}
		if _, ok := tlpLevel(name); ok && strings.HasPrefix(strings.ToLower(name), "tlp:") {
			if r := tlpRank[strings.TrimPrefix(strings.ToLower(name), "tlp:")]; r > rank {
				tlp, rank = name, r
			}
			continue
		}
		labels = append(labels, name)
	}
	return tlp, labels
}

// MISPOptions are a MISP import's options. Those of ListOptions that are
// set override what the events say: Source their creating organisation,
// TLP their tlp: tags; Labels come before the events' and attributes'
// other tags.
type MISPOptions struct {
	ListOptions
	// AllAttributes takes the attributes whose to_ids flag is false too,
	// which MISP marks as context rather than for detection; many
	// publishers leave the flag off on the indicators of their reports.
	AllAttributes bool
}

// eventOptions are the options of the indicators of one attribute.
func (o MISPOptions) eventOptions(ev *MISPEvent, a MISPAttribute) ListOptions {
	opt := o.ListOptions
	opt.Format = FormatMISP
	if opt.Source == "" {
		opt.Source = strings.TrimSpace(ev.Orgc.Name)
		if opt.Source == "" {
			opt.Source = strings.TrimSpace(ev.Org.Name)
		}
	}
	evTLP, evLabels := mispMarking(ev.Tags)
	attrTLP, attrLabels := mispMarking(a.Tags)
	if opt.TLP == "" {
		opt.TLP = evTLP
		if attrTLP != "" {
			opt.TLP = attrTLP
		}
	}
	opt.Labels = append(append(append([]string(nil), opt.Labels...), evLabels...), attrLabels...)
	return opt
}

// ImportMISP imports MISP event exports (see FormatMISP): each attribute
// of a type that carries indicators becomes a STIX indicator, as an IOC
// list's value does, with the attribute's uuid as its id's (the id MISP's
// STIX export gives it), created by an identity named after the event's
// creating organisation and marked with the event's (or the attribute's)
// TLP tag. Attributes of other types, and those with to_ids false unless
// opt.AllAttributes, are counted as rejected with the reason. An
// attribute deleted, or whose to_ids is false, revokes the indicator an
// earlier import made of it (Summary.Revoked). Re-importing an export adds
// nothing.
func (im *Importer) ImportMISP(ctx context.Context, r io.Reader, opt MISPOptions) (Summary, error) {
	var s Summary
	if err := opt.Check(); err != nil {
		return s, err
	}
	b := newIndicatorBatches(im, &s)
	stored := map[string]bool{} // identities and markings stored by this import
	var withdrawn []string      // ids of the indicators of attributes deleted or not for detection
	n := 0
	err := ReadMISP(r, func(ev *MISPEvent) error {
		for _, a := range ev.attributes() {
			iocs, reason := a.iocs()
			if a.Deleted {
				withdrawn = append(withdrawn, a.ids(iocs, opt.eventOptions(ev, a))...)
				continue
			}
			n++
			s.Read++
			where := fmt.Sprintf("attribute %d", n)
			if reason != "" {
				im.reject(&s, where, "", reason)
				continue
			}
			aOpt := opt.eventOptions(ev, a)
			if !bool(a.ToIDs) && !opt.AllAttributes {
				withdrawn = append(withdrawn, a.ids(iocs, aOpt)...)
				im.reject(&s, where, "", fmt.Sprintf("%s %q has to_ids false: context, not for detection", a.Type, truncateText(string(a.Value))))
				continue
			}
			if err := im.storeContext(ctx, &s, aOpt, stored); err != nil {
				return err
			}
			for _, ioc := range iocs {
				ioc.Line = n
				ioc.Fields = mispFields(ev, a)
				obj, err := Indicator(ioc, aOpt)
				if err != nil {
					im.reject(&s, where, "", hail.ErrorMessage(err))
					continue
				}
				if err := b.add(ctx, obj); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err = b.finish(ctx, err); err != nil || len(withdrawn) == 0 || im.DryRun || im.Store == nil {
		return s, err
	}
	s.Revoked, err = RevokeIDs(ctx, im.Store, im.CollectionID, withdrawn, opt.now())
	return s, err
}

// ids returns the ids of the indicators iocs, an attribute's, make.
func (a MISPAttribute) ids(iocs []IOC, opt ListOptions) []string {
	out := make([]string, 0, len(iocs))
	for _, ioc := range iocs {
		if o, err := newSDO(ioc, opt); err == nil {
			out = append(out, o.ID)
		}
	}
	return out
}

// storeContext stores, before the first indicator that refers to them,
// the identity and TLP marking opt names, unless this import already did.
// They are context: not counted as added.
func (im *Importer) storeContext(ctx context.Context, s *Summary, opt ListOptions, stored map[string]bool) error {
	var head []stix.Object
	if opt.Source != "" && !stored["source\x00"+opt.Source] {
		stored["source\x00"+opt.Source] = true
		head = append(head, Identity(opt.Source))
	}
	if opt.TLP != "" {
		m, err := TLPMarking(opt.TLP)
		if err != nil {
			return err
		}
		if !stored[m.ID] {
			stored[m.ID] = true
			head = append(head, m)
		}
	}
	if len(head) == 0 {
		return nil
	}
	// The batch being stored counts in s; the context does not.
	if err := im.wait(s); err != nil {
		return err
	}
	var scratch Summary
	return im.finish(ctx, &scratch, head)
}

// mispFields describes an indicator made from a MISP attribute: its
// event, category and comment. Not its uuid: the same value in two events
// is one indicator, whose description should not change with each.
func mispFields(ev *MISPEvent, a MISPAttribute) map[string]string {
	f := map[string]string{}
	for k, v := range map[string]string{"event": ev.Info, "category": a.Category, "comment": a.Comment} {
		if v = strings.TrimSpace(v); v != "" {
			f[k] = cut(v, 1000)
		}
	}
	return f
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
