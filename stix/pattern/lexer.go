package pattern

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenKind is the lexical class of a token, after STIXPattern.g4 (the
// grammar published with STIX 2.1, oasis-open/cti-stix2-json-schemas).
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokIdentHyphen // an identifier with a '-': only object types may have one
	tokString
	tokInt
	tokFloat
	tokBool
	tokTimestamp
	tokHex
	tokBinary

	tokAnd
	tokOr
	tokNot
	tokFollowedBy
	tokLike
	tokMatches
	tokIsSuperset
	tokIsSubset
	tokExists
	tokLast // reserved by the grammar, used by no rule
	tokIn
	tokStart
	tokStop
	tokSeconds
	tokWithin
	tokRepeats
	tokTimes

	tokEq
	tokNeq
	tokLt
	tokLe
	tokGt
	tokGe
	tokColon
	tokDot
	tokComma
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokAsterisk
)

// keywords are the reserved words. STIX 2.1 keywords are upper-case only and
// the booleans lower-case only (STIX 2.1 §9.2, §9.3); any other spelling is
// an identifier, which the parser then rejects.
var keywords = map[string]tokenKind{
	"AND":        tokAnd,
	"OR":         tokOr,
	"NOT":        tokNot,
	"FOLLOWEDBY": tokFollowedBy,
	"LIKE":       tokLike,
	"MATCHES":    tokMatches,
	"ISSUPERSET": tokIsSuperset,
	"ISSUBSET":   tokIsSubset,
	"EXISTS":     tokExists,
	"LAST":       tokLast,
	"IN":         tokIn,
	"START":      tokStart,
	"STOP":       tokStop,
	"SECONDS":    tokSeconds,
	"WITHIN":     tokWithin,
	"REPEATS":    tokRepeats,
	"TIMES":      tokTimes,
	"true":       tokBool,
	"false":      tokBool,
}

var punctuation = map[tokenKind]string{
	tokEq: "=", tokNeq: "!=", tokLt: "<", tokLe: "<=", tokGt: ">", tokGe: ">=",
	tokColon: ":", tokDot: ".", tokComma: ",", tokLParen: "(", tokRParen: ")",
	tokLBrack: "[", tokRBrack: "]", tokAsterisk: "*",
}

// token is one lexeme. text is the source slice; val is the decoded value
// of a literal (string contents, digits without a leading '+', the body of a
// t”, h” or b” literal).
type token struct {
	kind tokenKind
	pos  int
	text string
	val  string
}

// describe names the token for an error message.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of pattern"
	}
	text := t.text
	if len(text) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	d := fmt.Sprintf("%q", text)
	if t.kind == tokIdent {
		if _, ok := keywords[strings.ToUpper(t.text)]; ok {
			d += " (keywords are upper-case)"
		} else if lower := strings.ToLower(t.text); lower == "true" || lower == "false" {
			d += " (booleans are lower-case)"
		}
	}
	return d
}

type lexer struct {
	src string
	pos int
}

// next returns the next token, skipping white space and comments.
func (l *lexer) next() (token, error) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[start]
	switch {
	case identStart(c):
		return l.identifier()
	case c == '\'':
		return l.quoted()
	case isDigit(c) || c == '+' || c == '-' || c == '.':
		if t, ok, err := l.number(); ok || err != nil {
			return t, err
		}
	}
	kind, width := tokEOF, 1
	switch c {
	case '=':
		kind = tokEq
		if l.peek(1) == '=' {
			width = 2
		}
	case '!':
		if l.peek(1) == '=' {
			kind, width = tokNeq, 2
		}
	case '<':
		kind = tokLt
		switch l.peek(1) {
		case '=':
			kind, width = tokLe, 2
		case '>':
			kind, width = tokNeq, 2
		}
	case '>':
		kind = tokGt
		if l.peek(1) == '=' {
			kind, width = tokGe, 2
		}
	case ':':
		kind = tokColon
	case '.':
		kind = tokDot
	case ',':
		kind = tokComma
	case '(':
		kind = tokLParen
	case ')':
		kind = tokRParen
	case '[':
		kind = tokLBrack
	case ']':
		kind = tokRBrack
	case '*':
		kind = tokAsterisk
	}
	if kind == tokEOF {
		return token{}, l.invalid(start)
	}
	l.pos += width
	return token{kind: kind, pos: start, text: l.src[start:l.pos]}, nil
}

func (l *lexer) peek(off int) byte {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return 0
}

func (l *lexer) invalid(pos int) error {
	r, _ := utf8.DecodeRuneInString(l.src[pos:])
	msg := fmt.Sprintf("unexpected character %q", r)
	if r == '"' {
		msg += " (strings are quoted with ')"
	}
	return &SyntaxError{Pos: pos, Msg: msg}
}

// skip moves past white space and /* */ and // comments.
func (l *lexer) skip() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.peek(1) == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return &SyntaxError{Pos: l.pos, Msg: "unterminated comment"}
			}
			l.pos += 2 + end + 2
		case c == '/' && l.peek(1) == '/':
			end := strings.IndexAny(l.src[l.pos:], "\r\n")
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !unicodeSpace(r) {
				return nil
			}
			l.pos += n
		default:
			return nil
		}
	}
	return nil
}

// unicodeSpace is the grammar's WS set beyond ASCII.
func unicodeSpace(r rune) bool {
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func identPart(c byte) bool {
	return identStart(c) || isDigit(c) || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) identifier() (token, error) {
	start := l.pos
	hyphen := false
	for l.pos < len(l.src) && identPart(l.src[l.pos]) {
		hyphen = hyphen || l.src[l.pos] == '-'
		l.pos++
	}
	text := l.src[start:l.pos]
	if l.pos-start == 1 && l.peek(0) == '\'' {
		switch text {
		case "t", "h", "b":
			return l.prefixed(start, text[0])
		}
	}
	if kind, ok := keywords[text]; ok {
		return token{kind: kind, pos: start, text: text, val: text}, nil
	}
	kind := tokIdent
	if hyphen {
		kind = tokIdentHyphen
	}
	return token{kind: kind, pos: start, text: text, val: text}, nil
}

// quoted lexes a string literal. STIX 2.1 §9.2: the only escapes are \' and
// \\; a backslash before anything else is an error.
func (l *lexer) quoted() (token, error) {
	start := l.pos
	i := start + 1
	var b []byte // nil until the first escape, so most strings do not allocate
	for ; i < len(l.src); i++ {
		switch l.src[i] {
		case '\'':
			l.pos = i + 1
			val := l.src[start+1 : i]
			if b != nil {
				val = string(b)
			}
			return token{kind: tokString, pos: start, text: l.src[start:l.pos], val: val}, nil
		case '\\':
			if i+1 >= len(l.src) {
				return token{}, &SyntaxError{Pos: start, Msg: "unterminated string"}
			}
			e := l.src[i+1]
			if e != '\'' && e != '\\' {
				r, _ := utf8.DecodeRuneInString(l.src[i+1:])
				return token{}, &SyntaxError{Pos: i, Msg: fmt.Sprintf(`invalid escape "\%c" in string: only \' and \\ are allowed`, r)}
			}
			if b == nil {
				b = append(make([]byte, 0, len(l.src)-start), l.src[start+1:i]...)
			}
			b = append(b, e)
			i++
		default:
			if b != nil {
				b = append(b, l.src[i])
			}
		}
	}
	return token{}, &SyntaxError{Pos: start, Msg: "unterminated string"}
}

// prefixed lexes t'…', h'…' and b'…' literals, whose bodies hold no quote or
// backslash, and checks the body against its grammar rule.
func (l *lexer) prefixed(start int, prefix byte) (token, error) {
	end := strings.IndexByte(l.src[start+2:], '\'')
	if end < 0 {
		return token{}, &SyntaxError{Pos: start, Msg: "unterminated " + literalName[prefix] + " literal"}
	}
	body := l.src[start+2 : start+2+end]
	l.pos = start + 2 + end + 1
	var kind tokenKind
	var why string
	switch prefix {
	case 't':
		kind, why = tokTimestamp, checkTimestamp(body)
	case 'h':
		kind, why = tokHex, checkHex(body)
	case 'b':
		kind, why = tokBinary, checkBase64(body)
	}
	if why != "" {
		return token{}, &SyntaxError{Pos: start, Msg: fmt.Sprintf("invalid %s literal %q: %s", literalName[prefix], body, why)}
	}
	return token{kind: kind, pos: start, text: l.src[start:l.pos], val: body}, nil
}

var literalName = map[byte]string{'t': "timestamp", 'h': "hex", 'b': "binary"}

// number lexes IntPosLiteral, IntNegLiteral, FloatPosLiteral and
// FloatNegLiteral: [+-]? (0|[1-9][0-9]*) and [+-]? [0-9]* '.' [0-9]+.
// ok is false when the text at l.pos is not a number (a lone '.', '+', '-').
func (l *lexer) number() (t token, ok bool, err error) {
	start := l.pos
	i := start
	if c := l.src[i]; c == '+' || c == '-' {
		i++
	}
	digits := i
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	intEnd := i
	kind := tokInt
	if i+1 < len(l.src) && l.src[i] == '.' && isDigit(l.src[i+1]) {
		kind = tokFloat
		for i++; i < len(l.src) && isDigit(l.src[i]); i++ {
		}
	}
	if kind == tokInt {
		if intEnd == digits {
			return token{}, false, nil
		}
		if l.src[digits] == '0' && intEnd-digits > 1 {
			return token{}, false, &SyntaxError{Pos: start, Msg: fmt.Sprintf("invalid number %q: leading zero", l.src[start:intEnd])}
		}
	}
	l.pos = i
	text := l.src[start:i]
	return token{kind: kind, pos: start, text: text, val: strings.TrimPrefix(text, "+")}, true, nil
}

// checkTimestamp validates a t” body: the grammar's TimestampLiteral,
// YYYY-MM-DDTHH:MM:SS[.frac]Z, plus the day-of-month limit of RFC 3339
// §5.7, which the grammar alone does not check. It returns why not, or "".
func checkTimestamp(s string) string {
	const shape = "YYYY-MM-DDTHH:MM:SS"
	if len(s) < len(shape)+1 || s[len(s)-1] != 'Z' {
		return "want YYYY-MM-DDTHH:MM:SS[.fraction]Z"
	}
	for i := 0; i < len(shape); i++ {
		switch shape[i] {
		case '-', 'T', ':':
			if s[i] != shape[i] {
				return "want YYYY-MM-DDTHH:MM:SS[.fraction]Z"
			}
		default:
			if !isDigit(s[i]) {
				return "want YYYY-MM-DDTHH:MM:SS[.fraction]Z"
			}
		}
	}
	if frac := s[len(shape) : len(s)-1]; frac != "" {
		if len(frac) < 2 || frac[0] != '.' || strings.IndexFunc(frac[1:], notDigit) >= 0 {
			return "bad fraction of a second"
		}
	}
	year, month, day := num(s[0:4]), num(s[5:7]), num(s[8:10])
	hour, minute, second := num(s[11:13]), num(s[14:16]), num(s[17:19])
	switch {
	case month < 1 || month > 12:
		return "month out of range"
	case day < 1 || day > daysIn(year, month):
		return "day out of range"
	case hour > 23:
		return "hour out of range"
	case minute > 59:
		return "minute out of range"
	case second > 60: // 60 is a leap second, allowed by RFC 3339 and the grammar
		return "second out of range"
	}
	return ""
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkHex validates an h” body: pairs of hex digits, possibly none.
func checkHex(s string) string {
	if len(s)%2 != 0 {
		return "odd number of hex digits"
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return "not a hex digit"
		}
	}
	return ""
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkBase64 validates a b” body as the grammar does: whole groups of four
// base64 characters, at least one, with '=' padding only at the end.
func checkBase64(s string) string {
	if len(s) == 0 || len(s)%4 != 0 {
		return "length is not a positive multiple of 4"
	}
	pad := len(s) - len(strings.TrimRight(s, "="))
	if pad > 2 {
		return "too much padding"
	}
	for i := 0; i < len(s)-pad; i++ {
		c := s[i]
		if !isBase64(c) {
			return "not a base64 character"
		}
	}
	return ""
}

func isBase64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '+' || c == '/'
}
