package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"hail"
)

// FuzzReadObjects checks that any input is either read or rejected with a
// *SyntaxError, that every object handed over is valid JSON, and that valid
// JSON arrays and single objects come out whole.
func FuzzReadObjects(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + ind1 + `]}`))
	f.Add([]byte(`{"more":false,"objects":[` + ind1 + `,` + ind2 + `]}`))
	f.Add([]byte(`[` + ind1 + `]`))
	f.Add([]byte(ind2))
	f.Add([]byte(ind1 + "\n" + ind1))
	f.Add([]byte(`{"id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[],"spec_version":"2.0","type":"bundle"}`))
	f.Add([]byte("\ufeff[1, {\"a\": x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []json.RawMessage
		err := ReadObjects(bytes.NewReader(data), func(raw json.RawMessage) error {
			if !json.Valid(raw) {
				t.Errorf("object %q is not valid JSON", raw)
			}
			got = append(got, raw)
			return nil
		})
		var se *SyntaxError
		if err != nil && (!errors.As(err, &se) || hail.ErrorCode(err) != hail.EINVALID) {
			t.Fatalf("error %v is not a *SyntaxError", err)
		}
		if se != nil && (se.Offset < 0 || se.Offset > int64(len(data))) {
			t.Errorf("error offset %d outside the input of %d bytes", se.Offset, len(data))
		}
		body := bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))
		if !json.Valid(body) || len(body) == 0 || body[0] != '[' && body[0] != '{' {
			return
		}
		if err != nil && !notSTIXObject(body) {
			t.Fatalf("valid JSON %q rejected: %v", body, err)
		}
		if err != nil {
			return
		}
		if body[0] == '[' {
			var elems []json.RawMessage
			json.Unmarshal(body, &elems)
			if len(got) != len(elems) {
				t.Errorf("array of %d elements gave %d objects", len(elems), len(got))
			}
			return
		}
		var m map[string]json.RawMessage
		json.Unmarshal(body, &m)
		var typ string
		_, hasType := m["type"]
		json.Unmarshal(m["type"], &typ)
		if _, hasObjects := m["objects"]; hasType && !hasObjects && typ != "bundle" {
			if len(got) != 1 || !bytes.Equal(got[0], body) {
				t.Errorf("single object %q gave %q", body, got)
			}
		}
	})
}

// notSTIXObject reports whether body is a JSON object with keys, none of
// them "type", "id" or "objects", other than an envelope's: what Reader
// refuses as no STIX.
func notSTIXObject(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, typ := m["type"]
	_, id := m["id"]
	_, objects := m["objects"]
	for k := range m {
		if !envelopeKey(k) && !typ && !id && !objects {
			return true
		}
	}
	return false
}

// FuzzReadList checks that any list is read without a panic, that every
// value reported is canonical (detected again as itself) and makes a valid
// STIX object, and that lines are numbered within the input.
func FuzzReadList(f *testing.F) {
	f.Add([]byte("# feed\nevil.com\n1.2.3.4\t3\nhxxps://evil[.]com/a\n"), uint8(0))
	f.Add([]byte("domain_name,ip_address\n\"evil.com\",\"1.2.3.4\"\n"), uint8(0))
	f.Add([]byte("type,indicator,app\r\ndomain,copy9.com,Spy\r\n"), uint8(2))
	f.Add([]byte("\ufeff10.0.0.0/8 ; private\n[2001:db8::1]:53\nuser[@]evil.com\nCVE-2024-3094\n"), uint8(1))
	f.Add([]byte("a;b;c\nx;evil.com;y\n"), uint8(0))
	f.Add([]byte(`{"1":[{"ioc_value":"45.61.136.5:443","ioc_type":"ip:port"}],"2":[{"url":"hxxp://evil[.]com/a"}]}`), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		opt := ListOptions{Format: []string{"", FormatText, FormatCSV, FormatJSON}[int(format)%4], Source: "fuzz",
			TLP: "green", TTL: time.Hour, Now: at(t0)}
		lines := bytes.Count(data, []byte("\n")) + 1
		if opt.Format == FormatJSON {
			lines = len(data) // records, not lines: at most one per byte
		}
		err := ReadList(bytes.NewReader(data), opt, func(ioc IOC) error {
			if ioc.Line < 1 || ioc.Line > lines {
				t.Errorf("IOC %+v on line %d of %d", ioc, ioc.Line, lines)
			}
			again, reason := detect(ioc.Value)
			if reason != "" || again.Type != ioc.Type || again.Value != ioc.Value {
				t.Errorf("IOC %+v detected again as %+v (%s)", ioc, again, reason)
			}
			o, err := Indicator(ioc, opt)
			if err != nil {
				t.Errorf("Indicator(%+v): %v", ioc, err)
			} else if !strings.HasPrefix(o.ID, "indicator--") && !strings.HasPrefix(o.ID, "vulnerability--") {
				t.Errorf("Indicator(%+v) id %s", ioc, o.ID)
			}
			return nil
		}, func(line int, text, reason string) {
			if line < 1 || line > lines || reason == "" {
				t.Errorf("bad line %d of %d: %q %q", line, lines, text, reason)
			}
		})
		if err != nil && hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("ReadList: %v", err)
		}
	})
}
