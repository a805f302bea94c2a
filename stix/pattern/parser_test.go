package pattern

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"hail"
)

// TestParseCanonical parses each construct of the grammar and checks the
// canonical text String gives back.
func TestParseCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Comparison operators, each with and without NOT.
		{"equal", "[file:name = 'a.exe']", ""},
		{"equal double", "[file:name == 'a.exe']", "[file:name = 'a.exe']"},
		{"not equal", "[file:name NOT = 'a.exe']", ""},
		{"unequal", "[file:size != 3]", ""},
		{"unequal angle", "[file:size <> 3]", "[file:size != 3]"},
		{"not unequal", "[file:size NOT != 3]", ""},
		{"less", "[file:size < 3]", ""},
		{"not less", "[file:size NOT < 3]", ""},
		{"less equal", "[file:size <= 3]", ""},
		{"not less equal", "[file:size NOT <= 3]", ""},
		{"greater", "[file:size > 3]", ""},
		{"not greater", "[file:size NOT > 3]", ""},
		{"greater equal", "[file:size >= 3]", ""},
		{"not greater equal", "[file:size NOT >= 3]", ""},
		{"in", "[file:size IN (1, 2, 3)]", ""},
		{"not in", "[file:size NOT IN (1, 'two', true, 4.5)]", ""},
		{"in empty", "[file:size IN ()]", ""},
		{"in tight", "[file:size IN(1,2)]", "[file:size IN (1, 2)]"},
		{"like", "[file:name LIKE 'a%.exe']", ""},
		{"not like", "[file:name NOT LIKE 'a_.exe']", ""},
		{"matches", `[file:name MATCHES '^a\\.exe$']`, ""},
		{"not matches", "[file:name NOT MATCHES '^a']", ""},
		{"issubset", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", ""},
		{"not issubset", "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", ""},
		{"issuperset", "[ipv4-addr:value ISSUPERSET '10.1.0.0/16']", ""},
		{"not issuperset", "[ipv4-addr:value NOT ISSUPERSET '10.1.0.0/16']", ""},
		{"exists", "[EXISTS windows-registry-key:values]", ""},
		{"not exists", "[NOT EXISTS windows-registry-key:values]", ""},

		// Constants.
		{"string escapes", `[file:name = 'it\'s a \\ back']`, ""},
		{"string empty", "[file:name = '']", ""},
		{"string unicode", "[file:name = 'résumé “x”.pdf']", ""},
		{"int", "[file:size = 0]", ""},
		{"int negative", "[x-a:n = -12]", ""},
		{"int negative zero", "[x-a:n = -0]", ""},
		{"int plus", "[x-a:n = +12]", "[x-a:n = 12]"},
		{"float", "[x-a:n = 1.25]", ""},
		{"float no integer part", "[x-a:n = .5]", ""},
		{"float negative", "[x-a:n = -0.5]", ""},
		{"float plus", "[x-a:n = +.5]", "[x-a:n = .5]"},
		{"bool true", "[x509-certificate:is_self_signed = true]", ""},
		{"bool false", "[x509-certificate:is_self_signed != false]", ""},
		{"timestamp", "[file:created = t'2014-01-13T07:03:17Z']", ""},
		{"timestamp fraction", "[file:created > t'2014-01-13T07:03:17.123456Z']", ""},
		{"timestamp leap day", "[file:created = t'2024-02-29T00:00:00Z']", ""},
		{"timestamp leap second", "[file:created = t'2016-12-31T23:59:60Z']", ""},
		{"hex", "[file:magic_number_hex = h'ffD8']", ""},
		{"hex empty", "[file:magic_number_hex = h'']", ""},
		{"binary", "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", ""},
		{"binary two pad", "[artifact:payload_bin = b'YQ==']", ""},
		{"binary no pad", "[artifact:payload_bin = b'YWJj']", ""},

		// Object paths.
		{"quoted key", "[file:hashes.'SHA-256' = 'x']", ""},
		{"quoted plain key", "[file:hashes.'MD5' = 'x']", "[file:hashes.MD5 = 'x']"},
		{"quoted first", "[file:'name' = 'x']", "[file:name = 'x']"},
		{"quoted first hyphen", "[x-thing:'odd-name' = 'x']", ""},
		{"quoted keyword key", "[x-thing:'AND' = 'x']", ""},
		{"ref path", "[network-traffic:dst_ref.value = '198.51.100.1']", ""},
		{"index", "[network-traffic:extensions[0].x = 1]", ""},
		{"index plus", "[network-traffic:extensions[+2].x = 1]", "[network-traffic:extensions[2].x = 1]"},
		{"index negative", "[email-message:body_multipart[-1].body_raw_ref.name = 'a']", ""},
		{"index any", "[domain-name:resolves_to_refs[*].value = '198.51.100.1']", ""},
		{"nested extension", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", ""},
		{"custom type", "[x-usb-device:usbdrive.serial_number = '5758']", ""},
		{"underscore type", "[x_custom:a_b = 1]", ""},
		{"unquoted hyphen hash", "[file:hashes.SHA-256 = 'x']", "[file:hashes.'SHA-256' = 'x']"},
		{"unquoted hyphen hash sha1", "[artifact:hashes.SHA-1 = 'x']", "[artifact:hashes.'SHA-1' = 'x']"},

		// Comparison expressions.
		{"and", "[file:name = 'a' AND file:size = 1]", ""},
		{"or", "[file:name = 'a' OR file:size = 1]", ""},
		{"or under and", "[(file:name = 'a' OR file:size = 1) AND file:size = 2]", ""},
		{"and under or", "[file:name = 'a' OR file:size = 1 AND file:size = 2]", ""},
		{"redundant parens", "[(file:name = 'a' AND file:size = 1) OR (file:size = 2)]", "[file:name = 'a' AND file:size = 1 OR file:size = 2]"},
		{"right nested", "[file:name = 'a' AND (file:size = 1 AND file:size = 2)]", ""},
		{"paren in bracket", "[ (file:name = 'a') ]", "[file:name = 'a']"},

		// Observation expressions.
		{"obs and", "[a:b = 1] AND [c:d = 2]", ""},
		{"obs or", "[a:b = 1] OR [c:d = 2]", ""},
		{"followedby", "[a:b = 1] FOLLOWEDBY [c:d = 2]", ""},
		{"precedence", "[a:b = 1] FOLLOWEDBY [c:d = 2] OR [e:f = 3] AND [g:h = 4]", ""},
		{"grouped", "([a:b = 1] FOLLOWEDBY [c:d = 2]) AND [e:f = 3]", ""},
		{"right grouped", "[a:b = 1] OR ([c:d = 2] OR [e:f = 3])", ""},
		{"paren observation", "(([a:b = 1]))", "[a:b = 1]"},

		// Qualifiers.
		{"within", "[a:b = 1] WITHIN 300 SECONDS", ""},
		{"within float", "[a:b = 1] WITHIN 2.5 SECONDS", ""},
		{"repeats", "[a:b = 1] REPEATS 5 TIMES", ""},
		{"start stop", "[a:b = 1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00.123Z'", ""},
		{"qualifier chain", "[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS", ""},
		{"qualified group", "([a:b = 1] FOLLOWEDBY [c:d = 2]) WITHIN 300 SECONDS", ""},
		{"qualified operand", "[a:b = 1] WITHIN 5 SECONDS AND [c:d = 2] REPEATS 2 TIMES", ""},
		{"same kind after group", "([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS", ""},
		{"same kind after parens", "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS", "([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS"},

		// Layout.
		{"comments", "/* lead */ [a:b = 1] // trailing\n AND /* mid */ [c:d = 2]", "[a:b = 1] AND [c:d = 2]"},
		{"comment in bracket", "[a:b /* why */ = 1]", "[a:b = 1]"},
		{"no spaces", "[a:b=1]AND[c:d!='x']", "[a:b = 1] AND [c:d != 'x']"},
		{"wide spaces", "\t[\na:b\r\n=\v1\f]\u00a0AND\u2003[c:d = 2]\u3000", "[a:b = 1] AND [c:d = 2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := p.String(); got != want {
				t.Errorf("Parse(%q).String()\n got %s\nwant %s", tt.in, got, want)
			}
			q, err := Parse(p.String())
			if err != nil {
				t.Fatalf("Parse(%q) of canonical text: %v", p.String(), err)
			}
			if !reflect.DeepEqual(p, q) {
				t.Errorf("canonical text %q parses to a different tree", p.String())
			}
		})
	}
}

func cmp(objectType, key string, op Operator, v Constant) *Comparison {
	return &Comparison{Path: Path{ObjectType: objectType, Steps: []Step{{Kind: KeyStep, Key: key}}}, Operator: op, Value: v}
}

func obs(e ComparisonExpr) *Observation { return &Observation{Expr: e} }

// TestParseTree checks the shape of trees where precedence, associativity
// and qualifier binding decide it.
func TestParseTree(t *testing.T) {
	one := Constant{Kind: Int, Value: "1"}
	a := cmp("a", "b", Equal, one)
	c := cmp("c", "d", Equal, one)
	e := cmp("e", "f", Equal, one)
	tests := []struct {
		in   string
		want ObservationExpr
	}{
		{"[a:b = 1 OR c:d = 1 AND e:f = 1]",
			obs(&ComparisonJoin{Op: Or, Left: a, Right: &ComparisonJoin{Op: And, Left: c, Right: e}})},
		{"[a:b = 1 AND c:d = 1 AND e:f = 1]",
			obs(&ComparisonJoin{Op: And, Left: &ComparisonJoin{Op: And, Left: a, Right: c}, Right: e})},
		{"[a:b = 1] FOLLOWEDBY [c:d = 1] OR [e:f = 1]",
			&ObservationJoin{Op: FollowedBy, Left: obs(a), Right: &ObservationJoin{Op: Or, Left: obs(c), Right: obs(e)}}},
		{"[a:b = 1] OR [c:d = 1] AND [e:f = 1]",
			&ObservationJoin{Op: Or, Left: obs(a), Right: &ObservationJoin{Op: And, Left: obs(c), Right: obs(e)}}},
		{"[a:b = 1] FOLLOWEDBY [c:d = 1] FOLLOWEDBY [e:f = 1]",
			&ObservationJoin{Op: FollowedBy, Left: &ObservationJoin{Op: FollowedBy, Left: obs(a), Right: obs(c)}, Right: obs(e)}},
		{"[a:b = 1] AND [c:d = 1] WITHIN 5 SECONDS",
			&ObservationJoin{Op: And, Left: obs(a), Right: &Qualified{Expr: obs(c), Qualifier: &Within{Seconds: Constant{Kind: Int, Value: "5"}}}}},
		{"([a:b = 1] AND [c:d = 1]) REPEATS 2 TIMES WITHIN 5 SECONDS",
			&Qualified{
				Expr:      &Qualified{Expr: &ObservationJoin{Op: And, Left: obs(a), Right: obs(c)}, Qualifier: &Repeats{Times: Constant{Kind: Int, Value: "2"}}},
				Qualifier: &Within{Seconds: Constant{Kind: Int, Value: "5"}},
			}},
		{"[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
			&Qualified{Expr: obs(a), Qualifier: &StartStop{
				Start: Constant{Kind: Timestamp, Value: "2016-06-01T00:00:00Z"},
				Stop:  Constant{Kind: Timestamp, Value: "2016-07-01T00:00:00Z"},
			}}},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(p.Expr, tt.want) {
			t.Errorf("Parse(%q) = %s, a different tree from %s", tt.in, p, (&Pattern{Expr: tt.want}).String())
		}
	}
}

func TestParseValues(t *testing.T) {
	p, err := Parse(`[file:hashes.'SHA-256' = 'it\'s' AND x:y[-2][*].z IN ('a\\b', -3, h'00')]`)
	if err != nil {
		t.Fatal(err)
	}
	var got []*Comparison
	for c := range p.Comparisons() {
		got = append(got, c)
	}
	want := []*Comparison{
		{
			Path:     Path{ObjectType: "file", Steps: []Step{{Kind: KeyStep, Key: "hashes"}, {Kind: KeyStep, Key: "SHA-256"}}},
			Operator: Equal,
			Value:    Constant{Kind: String, Value: "it's"},
		},
		{
			Path: Path{ObjectType: "x", Steps: []Step{
				{Kind: KeyStep, Key: "y"}, {Kind: IndexStep, Index: -2}, {Kind: AnyStep}, {Kind: KeyStep, Key: "z"},
			}},
			Operator: In,
			Set:      []Constant{{Kind: String, Value: `a\b`}, {Kind: Int, Value: "-3"}, {Kind: Hex, Value: "00"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("comparisons:\n got %+v\nwant %+v", got, want)
	}
}

// TestParseErrors checks each class of error: where it is reported and
// what it says.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		pos      int
		msg      string
	}{
		{"empty", "", 0, "empty pattern"},
		{"blank", "  /* nothing */ ", 16, "empty pattern"},
		{"no brackets", "file:size = 1280", 0, `expected "[" or "(", found "file"`},
		{"missing close bracket", "[file:size = 1280", 17, `expected "AND", "OR" or "]", found end of pattern`},
		{"missing open bracket", "file:size = 1280]", 0, `expected "[" or "("`},
		{"missing close paren", "([a:b = 1]", 10, `a qualifier or ")", found end of pattern`},
		{"missing close paren in bracket", "[(a:b = 1]", 9, `expected "AND", "OR" or ")", found "]"`},
		{"missing value", "[file:size = ]", 13, `expected a constant, found "]"`},
		{"unquoted string", "[file:hashes.MD5 = cead3f77]", 19, `expected a constant, found "cead3f77"`},
		{"unterminated string", "[file:name = 'abc]", 13, "unterminated string"},
		{"unterminated after escape", `[file:name = 'abc\`, 13, "unterminated string"},
		{"bad escape", `[file:name = 'C:\Windows']`, 16, `invalid escape "\W"`},
		{"bad escape n", `[file:name = 'a\nb']`, 15, `invalid escape "\n"`},
		{"double quotes", `[file:name = "a"]`, 13, `unexpected character '"'`},
		{"lower-case and", "[a:b = 1] and [c:d = 2]", 10, `found "and" (keywords are upper-case)`},
		{"lower-case within", "[a:b = 1] within 2 SECONDS", 10, `found "within" (keywords are upper-case)`},
		{"lower-case operator", "[a:b like 'x']", 5, `expected a comparison operator, found "like" (keywords are upper-case)`},
		{"upper-case bool", "[a:b = TRUE]", 7, `found "TRUE" (booleans are lower-case)`},
		{"trailing garbage", "[a:b = 1] x", 10, `expected "AND", "OR", "FOLLOWEDBY", a qualifier or end of pattern, found "x"`},
		{"trailing bracket", "[a:b = 1]]", 9, `found "]"`},
		{"bad operator", "[a:b =? 1]", 6, `unexpected character '?'`},
		{"period for colon", "[file.size = 1]", 5, `expected ":", found "."`},
		{"regex slashes", "[file:name MATCHES /.*/]", 19, `unexpected character '/'`},
		{"like number", "[file:name LIKE 3]", 16, `expected a string, found "3"`},
		{"order bool", "[a:b > true]", 7, `expected a string, number, timestamp, hex or binary constant, found "true"`},
		{"exists after path", "[a:b EXISTS]", 5, `"EXISTS" goes before the object path: EXISTS a:b`},
		{"not without exists", "[NOT a:b = 1]", 5, `expected "EXISTS", found "a"`},
		{"hyphen property", "[file:extensions.windows-pebinary-ext.x = 1]", 17, `property name "windows-pebinary-ext" must be quoted`},
		{"hyphen first property", "[a:b-c = 1]", 3, `expected a property name, found "b-c"`},
		{"keyword property", "[a:LAST = 1]", 3, `expected a property name, found "LAST"`},
		{"keyword type", "[AND:b = 1]", 1, `expected an object path, found "AND"`},
		{"bad index", "[a:b[x] = 1]", 5, `expected a list index or "*"`},
		{"huge index", "[a:b[99999999999999999999] = 1]", 5, "list index out of range"},
		{"empty in", "[a:b IN 1]", 8, `expected "("`},
		{"in missing comma", "[a:b IN (1 2)]", 11, `expected "," or ")", found "2"`},
		{"leading zero", "[a:b = 007]", 7, `invalid number "007": leading zero`},
		{"lone minus", "[a:b = -]", 7, `unexpected character '-'`},
		{"timestamp month", "[a:b = t'2024-13-01T00:00:00Z']", 7, `invalid timestamp literal "2024-13-01T00:00:00Z": month out of range`},
		{"timestamp day", "[a:b = t'2023-02-29T00:00:00Z']", 7, "day out of range"},
		{"timestamp hour", "[a:b = t'2024-01-01T24:00:00Z']", 7, "hour out of range"},
		{"timestamp minute", "[a:b = t'2024-01-01T00:60:00Z']", 7, "minute out of range"},
		{"timestamp second", "[a:b = t'2024-01-01T00:00:61Z']", 7, "second out of range"},
		{"timestamp zone", "[a:b = t'2024-01-01T00:00:00+01:00']", 7, "want YYYY-MM-DDTHH:MM:SS[.fraction]Z"},
		{"timestamp no zone", "[a:b = t'2024-01-01T00:00:00']", 7, "want YYYY-MM-DDTHH:MM:SS[.fraction]Z"},
		{"timestamp fraction", "[a:b = t'2024-01-01T00:00:00.Z']", 7, "bad fraction of a second"},
		{"timestamp words", "[a:b = t'yesterday']", 7, "invalid timestamp literal"},
		{"timestamp unterminated", "[a:b = t'2024-01-01T00:00:00Z]", 7, "unterminated timestamp literal"},
		{"start string", "[a:b = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'", 16, `expected a timestamp t'…', found "'2016-06-01T00:00:00Z'"`},
		{"start without stop", "[a:b = 1] START t'2016-06-01T00:00:00Z'", 39, `expected "STOP", found end of pattern`},
		{"hex odd", "[a:b = h'abc']", 7, `invalid hex literal "abc": odd number of hex digits`},
		{"hex digit", "[a:b = h'zz']", 7, "not a hex digit"},
		{"binary padding only", "[a:b = b'====']", 7, "invalid binary literal"},
		{"binary length", "[a:b = b'abc']", 7, "length is not a positive multiple of 4"},
		{"binary empty", "[a:b = b'']", 7, "invalid binary literal"},
		{"within negative", "[a:b = 1] WITHIN -5 SECONDS", 17, `expected a number of seconds, found "-5"`},
		{"within unit", "[a:b = 1] WITHIN 5 HOURS", 19, `expected "SECONDS", found "HOURS"`},
		{"within missing", "[a:b = 1] WITHIN ]", 17, "expected a number of seconds"},
		{"repeats float", "[a:b = 1] REPEATS 1.5 TIMES", 18, `expected a number of times, found "1.5"`},
		{"duplicate within", "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", 27, "second WITHIN qualifier on the same observation expression"},
		{"duplicate repeats", "([a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", 27, "second REPEATS qualifier"},
		{"duplicate start", "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z' START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'", 69, "second START qualifier"},
		{"qualifier inside bracket", "[a:b = 1 WITHIN 5 SECONDS]", 9, `expected "AND", "OR" or "]", found "WITHIN"`},
		{"followedby in bracket", "[a:b = 1 FOLLOWEDBY a:b = 2]", 9, `found "FOLLOWEDBY"`},
		{"unterminated comment", "[a:b = 1] /* open", 10, "unterminated comment"},
		{"dangling operator", "[a:b = 1] AND", 13, `expected "[" or "(", found end of pattern`},
		{"deep nesting", strings.Repeat("(", maxDepth+1) + "[a:b = 1]" + strings.Repeat(")", maxDepth+1), maxDepth, "parentheses nested too deeply"},
		{"non-ascii outside string", "[a:b = 1] ÷", 10, `unexpected character '÷'`},
		{"position after multibyte", "[a:b = 'é'] x", 13, `found "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, p)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", tt.in, err, err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("Parse(%q):\n got pos %d %q\nwant pos %d containing %q", tt.in, se.Pos, se.Msg, tt.pos, tt.msg)
			}
			if code := hail.ErrorCode(err); code != hail.EINVALID {
				t.Errorf("hail.ErrorCode = %q, want %q", code, hail.EINVALID)
			}
		})
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := Parse("[a:b = 1] and [c:d = 2]")
	want := `at position 10: expected "AND", "OR", "FOLLOWEDBY", a qualifier or end of pattern, found "and" (keywords are upper-case)`
	if err == nil || err.Error() != want {
		t.Errorf("error text\n got %v\nwant %s", err, want)
	}
	wantMsg := "Invalid STIX pattern " + want + "."
	if got := hail.ErrorMessage(err); got != wantMsg {
		t.Errorf("hail.ErrorMessage\n got %s\nwant %s", got, wantMsg)
	}
}
