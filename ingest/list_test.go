package ingest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
)

// badLine is one call of ReadList's bad callback.
type badLine struct {
	Line         int
	Text, Reason string
}

// readList runs ReadList over input and collects what it reports.
func readList(input string, opt ListOptions) ([]IOC, []badLine, error) {
	var iocs []IOC
	var bad []badLine
	err := ReadList(strings.NewReader(input), opt, func(ioc IOC) error {
		iocs = append(iocs, ioc)
		return nil
	}, func(line int, text, reason string) {
		bad = append(bad, badLine{line, text, reason})
	})
	return iocs, bad, err
}

func TestReadListText(t *testing.T) {
	input := "\ufeff# Example feed\r\n" +
		"; generated 2024-01-01\r\n" +
		"\r\n" +
		"evil.com\r\n" +
		"1.2.3.4\t37\r\n" +
		"5.6.7.8;spam host\n" +
		"9.9.9.9,12\n" +
		"bad[.]example[.]org  # seen in phishing\n" +
		"hxxp://evil[.]com/a,b.php\n" +
		"not an indicator\n" +
		"   \n" +
		"10.0.0.1:8080 c2\n" +
		"localhost\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	iocs, bad, err := readList(input, ListOptions{})
	if err != nil {
		t.Fatalf("ReadList: %v", err)
	}
	want := []IOC{
		{Type: TypeDomain, Value: "evil.com", Line: 4},
		{Type: TypeIPv4, Value: "1.2.3.4", Line: 5, Fields: map[string]string{"comment": "37"}},
		{Type: TypeIPv4, Value: "5.6.7.8", Line: 6, Fields: map[string]string{"comment": "spam host"}},
		{Type: TypeIPv4, Value: "9.9.9.9", Line: 7, Fields: map[string]string{"comment": "12"}},
		{Type: TypeDomain, Value: "bad.example.org", Line: 8, Fields: map[string]string{"comment": "seen in phishing"}},
		{Type: TypeURL, Value: "http://evil.com/a,b.php", Line: 9},
		{Type: TypeIPv4, Value: "10.0.0.1", Port: 8080, Line: 12, Fields: map[string]string{"comment": "c2"}},
		{Type: TypeSHA256, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Line: 14},
	}
	if !reflect.DeepEqual(iocs, want) {
		t.Errorf("IOCs:\n got %+v\nwant %+v", iocs, want)
	}
	wantBad := []badLine{{10, "not an indicator", reasonUnknown}, {13, "localhost", reasonUnknown}}
	if !reflect.DeepEqual(bad, wantBad) {
		t.Errorf("bad lines: got %+v, want %+v", bad, wantBad)
	}
}

func TestReadListLongLine(t *testing.T) {
	input := "a.example.com\n" + strings.Repeat("x", 3*maxLine) + "\nb.example.com\n"
	iocs, bad, err := readList(input, ListOptions{Format: FormatText})
	if err != nil {
		t.Fatalf("ReadList: %v", err)
	}
	if len(iocs) != 2 || iocs[1].Value != "b.example.com" || iocs[1].Line != 3 {
		t.Errorf("IOCs %+v, want a.example.com and b.example.com on line 3", iocs)
	}
	if len(bad) != 1 || bad[0].Line != 2 || bad[0].Reason != reasonTooLong || len(bad[0].Text) != 80 {
		t.Errorf("bad lines %+v, want line 2 too long, with its first 80 bytes", bad)
	}
}

func TestReadListCSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opt   ListOptions
		want  []IOC
		bad   []badLine
	}{
		{
			name:  "header names two columns",
			input: "domain_name,ip_address\n\"evil.com\",\"1.2.3.4\"\nother.org,\n",
			want: []IOC{
				{Type: TypeDomain, Value: "evil.com", Line: 2},
				{Type: TypeIPv4, Value: "1.2.3.4", Line: 2},
				{Type: TypeDomain, Value: "other.org", Line: 3},
			},
		},
		{
			name:  "other columns become fields",
			input: "type,indicator,app\r\ndomain,copy9.com,TheTruthSpy\r\nipv4,1.2.3.4,\r\n",
			want: []IOC{
				{Type: TypeDomain, Value: "copy9.com", Line: 2, Fields: map[string]string{"type": "domain", "app": "TheTruthSpy"}},
				{Type: TypeIPv4, Value: "1.2.3.4", Line: 3, Fields: map[string]string{"type": "ipv4"}},
			},
		},
		{
			name:  "bad cells reported, quoted comma kept",
			input: "SHA256,Description\nnot-a-hash,x\n1e9162cd0941557304a6a097dfaadf59f90bc8bbaa9879afe67b5ce0d1514be8,\"Linux, FinSpy\"\n",
			want: []IOC{{Type: TypeSHA256, Value: "1e9162cd0941557304a6a097dfaadf59f90bc8bbaa9879afe67b5ce0d1514be8", Line: 3,
				Fields: map[string]string{"Description": "Linux, FinSpy"}}},
			bad: []badLine{{2, "not-a-hash", reasonUnknown}},
		},
		{
			name:  "columns by content, no header",
			input: "TheTruthSpy,evil.com,3\nCopy9,1.2.3.4,4\n",
			want: []IOC{
				{Type: TypeDomain, Value: "evil.com", Line: 1, Fields: map[string]string{"1": "TheTruthSpy", "3": "3"}},
				{Type: TypeIPv4, Value: "1.2.3.4", Line: 2, Fields: map[string]string{"1": "Copy9", "3": "4"}},
			},
		},
		{
			name:  "columns by content, unknown header",
			input: "app;observed;note\nSpy;evil.com;x\nSpy;[bad;y\n",
			want:  []IOC{{Type: TypeDomain, Value: "evil.com", Line: 2, Fields: map[string]string{"app": "Spy", "note": "x"}}},
			bad:   []badLine{{3, "[bad", reasonUnknown}},
		},
		{
			name:  "columns named by the caller",
			input: "host,referrer\nevil.com,good.org\n",
			opt:   ListOptions{Columns: []string{"REFERRER"}},
			want:  []IOC{{Type: TypeDomain, Value: "good.org", Line: 2, Fields: map[string]string{"host": "evil.com"}}},
		},
		{
			name:  "columns numbered by the caller",
			input: "evil.com,good.org\n",
			opt:   ListOptions{Format: FormatCSV, Columns: []string{"2"}},
			want:  []IOC{{Type: TypeDomain, Value: "good.org", Line: 1, Fields: map[string]string{"1": "evil.com"}}},
		},
		{
			name:  "comments, blank lines and tabs",
			input: "# exported\nurl\tfirst_seen\n\nhttp://evil.com/x\t2024-01-01\n",
			want:  []IOC{{Type: TypeURL, Value: "http://evil.com/x", Line: 4, Fields: map[string]string{"first_seen": "2024-01-01"}}},
		},
		{
			name:  "stray quotes tolerated",
			input: "ip,note\n1.2.3.4,say \"hi\"\n5.6.7.8,\"unterminated\n",
			want: []IOC{
				{Type: TypeIPv4, Value: "1.2.3.4", Line: 2, Fields: map[string]string{"note": `say "hi"`}},
				{Type: TypeIPv4, Value: "5.6.7.8", Line: 3, Fields: map[string]string{"note": "unterminated"}},
			},
		},
	}
	for _, tt := range tests {
		iocs, bad, err := readList(tt.input, tt.opt)
		if err != nil {
			t.Errorf("%s: ReadList: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(iocs, tt.want) {
			t.Errorf("%s: IOCs\n got %+v\nwant %+v", tt.name, iocs, tt.want)
		}
		if !reflect.DeepEqual(bad, tt.bad) {
			t.Errorf("%s: bad lines\n got %+v\nwant %+v", tt.name, bad, tt.bad)
		}
	}
}

func TestReadListErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opt   ListOptions
	}{
		{"unknown format", "evil.com\n", ListOptions{Format: "xml"}},
		{"no indicator column", "Group ID,Group name,TLV value\n64,drives all get,131488\n", ListOptions{}},
		{"unknown column", "host,referrer\nevil.com,good.org\n", ListOptions{Columns: []string{"url"}}},
	}
	for _, tt := range tests {
		_, _, err := readList(tt.input, tt.opt)
		if code := hail.ErrorCode(err); code != hail.EINVALID {
			t.Errorf("%s: error %v (code %q), want code %q", tt.name, err, code, hail.EINVALID)
		}
	}
}

func TestReadListStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	for _, format := range []string{FormatText, FormatCSV} {
		n := 0
		err := ReadList(strings.NewReader("a.example.com\nb.example.com\nc.example.com\n"), ListOptions{Format: format},
			func(IOC) error {
				n++
				if n == 2 {
					return stop
				}
				return nil
			}, nil)
		if err != stop || n != 2 {
			t.Errorf("%s: ReadList = %v after %d IOCs, want the callback's error after 2", format, err, n)
		}
	}
}

func TestSniffFormat(t *testing.T) {
	tests := []struct{ head, want string }{
		{"", FormatText},
		{"evil.com\n", FormatText},
		{"# comment, with commas\nevil.com\n", FormatText},
		{"1.2.3.4 ; comment\n", FormatText},
		{"http://evil.com/a,b\n", FormatText},
		{"domain_name,ip_address\n", FormatCSV},
		{"evil.com,1.2.3.4\n", FormatCSV},
		{"TheTruthSpy,evil.com\n", FormatCSV},
		{"not an indicator\n", FormatText},
	}
	for _, tt := range tests {
		if got := sniffFormat([]byte(tt.head)); got != tt.want {
			t.Errorf("sniffFormat(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}

// listOf returns a text list of n lines of mixed indicators.
func listOf(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "host%d.example.com\n", i)
		case 1:
			fmt.Fprintf(&b, "10.%d.%d.%d\t# c2\n", i>>16&255, i>>8&255, i&255)
		case 2:
			fmt.Fprintf(&b, "hxxps://evil%d[.]com/login.php\n", i)
		case 3:
			fmt.Fprintf(&b, "%064x\n", i)
		}
	}
	return b.String()
}

func BenchmarkReadListText(b *testing.B) {
	const n = 10000
	input := listOf(n)
	benchmarkReadList(b, input, n, ListOptions{})
}

func BenchmarkReadListCSV(b *testing.B) {
	const n = 10000
	var sb strings.Builder
	sb.WriteString("type,indicator,app\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "domain,host%d.example.com,App %d\n", i, i%50)
	}
	benchmarkReadList(b, sb.String(), n, ListOptions{})
}

func benchmarkReadList(b *testing.B, input string, n int, opt ListOptions) {
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		err := ReadList(strings.NewReader(input), opt, func(IOC) error { count++; return nil }, nil)
		if err != nil || count != n {
			b.Fatalf("ReadList = %v, %d IOCs", err, count)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}

func TestListOptionsCheck(t *testing.T) {
	for _, opt := range []ListOptions{{}, {TLP: "TLP:AMBER+STRICT", Confidence: 100, TTL: time.Hour}, {TLP: "white"}} {
		if err := opt.Check(); err != nil {
			t.Errorf("%+v: %v", opt, err)
		}
	}
	for _, opt := range []ListOptions{{Confidence: 101}, {Confidence: -1}, {TLP: "purple"}, {TTL: -time.Hour}} {
		if err := opt.Check(); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", opt, err)
		}
	}
	// An import with options no indicator can take stops before the list.
	im := &Importer{DryRun: true}
	if _, err := im.ImportList(context.Background(), strings.NewReader("203.0.113.1\n"), ListOptions{Confidence: 200}); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("ImportList with confidence 200: %v, want EINVALID", err)
	}
}

func TestCommentedCSVHeader(t *testing.T) {
	// abuse.ch's CSV exports give their header as the last comment line:
	// only the indicator column is taken, not the links to abuse.ch's own
	// pages or the references, and the other columns are named by it.
	for name, tt := range map[string]struct {
		list string
		want []string
		desc string // in the first IOC's fields
	}{
		"URLhaus": {"#####\n# abuse.ch URLhaus Database Dump\n# Last updated: 2026-12-07 14:00:00 (UTC)\n#####\n" +
			"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n" +
			`"3312001","2026-12-07 13:55:06","http://115.55.237.117:47438/i","online","2026-12-07 13:55:06","malware_download","elf,Mozi","https://urlhaus.abuse.ch/url/3312001/","geenensp"` + "\n",
			[]string{"url http://115.55.237.117:47438/i"}, "threat"},
		"ThreatFox": {"#####\n# ThreatFox IOCs: recent\n#####\n#\n" +
			`# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","reference","tags"` + "\n" +
			`"2026-12-07 13:50:01", "1234567", "45.61.136.5:443", "ip:port", "botnet_cc", "win.cobalt_strike", "https://x.example/post/1", "CobaltStrike"` + "\n" +
			`"2026-12-07 13:40:01", "1234566", "evil-domain.example", "domain", "botnet_cc", "win.qakbot", "", "Qakbot"` + "\n",
			[]string{"ipv4 45.61.136.5", "domain evil-domain.example"}, "ioc_type"},
		"Feodo": {"# Feodo Tracker\n# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n" +
			"2026-12-01 10:00:00,192.0.2.10,443,online,2026-12-07,QakBot\n", []string{"ipv4 192.0.2.10"}, "dst_port"},
		"a comment that is no header": {"# Blocklist, updated hourly\n203.0.113.1,evil.example\n",
			[]string{"ipv4 203.0.113.1", "domain evil.example"}, ""},
	} {
		var got []string
		var first IOC
		err := ReadList(strings.NewReader(tt.list), ListOptions{Format: FormatCSV}, func(ioc IOC) error {
			if got == nil {
				first = ioc
			}
			got = append(got, ioc.Type+" "+ioc.Value)
			return nil
		}, func(line int, text, reason string) { t.Errorf("%s: line %d %q: %s", name, line, text, reason) })
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q (%v), want %q", name, got, err, tt.want)
		}
		if _, ok := first.Fields[tt.desc]; tt.desc != "" && !ok {
			t.Errorf("%s: fields %v, want them named by the header (%s)", name, first.Fields, tt.desc)
		}
	}
}

func TestReadListHostsFile(t *testing.T) {
	// Hosts-file block lists (URLhaus's, StevenBlack's) map names to a sink
	// address: the names are the indicators; the machine's own entries are
	// passed over; an address alone on its line is still an address.
	list := "# hosts\n127.0.0.1\tlocalhost\n::1 ip6-localhost ip6-loopback\n0.0.0.0 evil.example\n" +
		"0.0.0.0 bad.example ads.example # trackers\n127.0.0.1 c2.example\n0.0.0.0 203.0.113.5\n127.0.0.1\n" +
		"0.0.0.0 ; a comment\n"
	var got []string
	var bad []string
	err := ReadList(strings.NewReader(list), ListOptions{Format: FormatText}, func(ioc IOC) error {
		got = append(got, ioc.Value+" "+ioc.Fields["comment"])
		return nil
	}, func(line int, text, reason string) { bad = append(bad, fmt.Sprintf("%d %s", line, text)) })
	want := []string{"evil.example ", "bad.example trackers", "ads.example trackers", "c2.example ", "127.0.0.1 ", "0.0.0.0 a comment"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("hosts file gave %q (%v), want %q", got, err, want)
	}
	if want := []string{"7 203.0.113.5"}; !reflect.DeepEqual(bad, want) {
		t.Errorf("bad lines %q, want %q", bad, want)
	}
}

func TestReadJSONList(t *testing.T) {
	// IOC lists published as JSON, in the shapes abuse.ch and Spamhaus
	// use: each object holding an indicator key is a record, its other
	// scalars its fields; keys that name no indicator (URLhaus's
	// urlhaus_reference) are not taken.
	for name, tt := range map[string]struct {
		list string
		want []string
		desc string
	}{
		"ThreatFox, a map of arrays": {`{"1234567":[{"ioc_value":"45.61.136.5:443","ioc_type":"ip:port","confidence_level":100,` +
			`"reference":"https://x.example/p"}],"1234566":[{"ioc_value":"evil-domain.example","ioc_type":"domain"}]}`,
			[]string{"ipv4 45.61.136.5", "domain evil-domain.example"}, "ioc_type"},
		"URLhaus": {`{"3312001":[{"dateadded":"2026-12-07","url":"http://115.55.237.117:47438/i","urlhaus_reference":"https://urlhaus.abuse.ch/url/3312001/","tags":["elf","Mozi"]}]}`,
			[]string{"url http://115.55.237.117:47438/i"}, "dateadded"},
		"Feodo, an array": {`[{"ip_address":"192.0.2.10","port":443,"status":"online","malware":"QakBot"}]`,
			[]string{"ipv4 192.0.2.10"}, "port"},
		"MalwareBazaar, under data": {`{"query_status":"ok","data":[{"sha256_hash":"` + strings.Repeat("ab", 32) + `","md5_hash":"` +
			strings.Repeat("c", 32) + `","file_name":"a.exe"}]}`,
			[]string{"sha256 " + strings.Repeat("ab", 32), "md5 " + strings.Repeat("c", 32)}, "file_name"},
		"Spamhaus DROP, JSON lines": {"{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n" +
			"{\"cidr\":\"1.19.0.0/16\",\"sblid\":\"SBL434604\",\"rir\":\"apnic\"}\n{\"type\":\"metadata\",\"timestamp\":1700000000,\"size\":2}\n",
			[]string{"cidr 1.10.16.0/20", "cidr 1.19.0.0/16"}, "sblid"},
	} {
		var got []string
		var first IOC
		err := ReadList(strings.NewReader(tt.list), ListOptions{Format: FormatJSON}, func(ioc IOC) error {
			if got == nil {
				first = ioc
			}
			got = append(got, ioc.Type+" "+ioc.Value)
			return nil
		}, func(line int, text, reason string) { t.Errorf("%s: record %d %q: %s", name, line, text, reason) })
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q (%v), want %q", name, got, err, tt.want)
		}
		if _, ok := first.Fields[tt.desc]; !ok {
			t.Errorf("%s: fields %v, want %s among them", name, first.Fields, tt.desc)
		}
	}
	var bad []string
	err := ReadList(strings.NewReader(`[{"ip":"not an ip"},{"ip":"203.0.113.1"}]`), ListOptions{Format: FormatJSON},
		func(IOC) error { return nil }, func(line int, text, reason string) { bad = append(bad, fmt.Sprintf("%d %s", line, text)) })
	if err != nil || !reflect.DeepEqual(bad, []string{"1 not an ip"}) {
		t.Errorf("a bad value: rejected %q (%v), want record 1's", bad, err)
	}
	for name, input := range map[string]string{
		"cut short": `[{"ip":"203.0.113.1"`,
		"malformed": `[{"ip":}]`,
		"too deep":  strings.Repeat("[", 100) + strings.Repeat("]", 100),
	} {
		if err := ReadList(strings.NewReader(input), ListOptions{Format: FormatJSON}, func(IOC) error { return nil }, nil); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func BenchmarkReadListJSON(b *testing.B) {
	const n = 10000
	var sb strings.Builder
	sb.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"%d":[{"ioc_value":"host%d.example.com","ioc_type":"domain","confidence_level":75,"tags":["x"]}]`, i, i)
	}
	sb.WriteString("}")
	benchmarkReadList(b, sb.String(), n, ListOptions{Format: FormatJSON})
}
