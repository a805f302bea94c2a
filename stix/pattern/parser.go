package pattern

import (
	"fmt"
	"strconv"

	"hail"
)

// SyntaxError reports why a pattern does not parse and where.
type SyntaxError struct {
	Pos int    // byte offset into the pattern, from 0
	Msg string // what was expected and what was found
}

// Error returns "at position N: " and the message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("at position %d: %s", e.Pos, e.Msg)
}

// Unwrap returns the error as a hail.EINVALID error, so that callers mapping
// errors to responses need not know this package.
func (e *SyntaxError) Unwrap() error {
	return hail.Errorf(hail.EINVALID, "Invalid STIX pattern %s.", e.Error())
}

// maxDepth bounds parenthesis nesting so that hostile input cannot exhaust
// the stack; real patterns nest a few levels at most.
const maxDepth = 500

// Parse parses a STIX 2.1 pattern (STIX 2.1 §9, grammar STIXPattern.g4).
// Errors are *SyntaxError, and hail.ErrorCode reports them as EINVALID.
//
// Parse follows the grammar with one leniency: a hash name written
// unquoted with a hyphen, as in file:hashes.SHA-256, is accepted as if it
// were quoted (file:hashes.'SHA-256'). Producers commonly write it so, and
// the intent is unambiguous. Beyond the grammar, Parse rejects calendar
// dates that do not exist (t'2023-02-29T00:00:00Z', RFC 3339 §5.7) and, like
// the OASIS pattern validator, two qualifiers of one kind applied directly
// to the same bracketed observation.
func Parse(s string) (pat *Pattern, err error) {
	p := parser{lx: lexer{src: s}}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			pat, err = nil, e
		}
	}()
	p.advance()
	if p.tok.kind == tokEOF {
		p.fail("empty pattern")
	}
	expr := p.observationJoin(FollowedBy)
	if p.tok.kind != tokEOF {
		p.expected(`"AND", "OR", "FOLLOWEDBY", a qualifier or end of pattern`)
	}
	return &Pattern{Expr: expr}, nil
}

// parser is a recursive-descent parser with one token of lookahead. Errors
// unwind to Parse by panicking with a *SyntaxError.
type parser struct {
	lx    lexer
	tok   token
	depth int
}

func (p *parser) advance() {
	t, err := p.lx.next()
	if err != nil {
		panic(err)
	}
	p.tok = t
}

func (p *parser) fail(msg string) {
	panic(&SyntaxError{Pos: p.tok.pos, Msg: msg})
}

func (p *parser) expected(what string) {
	p.fail("expected " + what + ", found " + p.tok.describe())
}

// expect consumes a token of kind k, described as what in an error.
func (p *parser) expect(k tokenKind, what string) token {
	t := p.tok
	if t.kind != k {
		p.expected(what)
	}
	p.advance()
	return t
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail("parentheses nested too deeply")
	}
}

var opToken = map[Op]tokenKind{FollowedBy: tokFollowedBy, Or: tokOr, And: tokAnd}

// observationJoin parses observation expressions joined by op or by any
// tighter-binding operator.
func (p *parser) observationJoin(op Op) ObservationExpr {
	if op > And {
		return p.qualified()
	}
	left := p.observationJoin(op + 1)
	for p.tok.kind == opToken[op] {
		p.advance()
		left = &ObservationJoin{Op: op, Left: left, Right: p.observationJoin(op + 1)}
	}
	return left
}

// qualified parses a bracketed or parenthesised observation expression and
// the qualifiers that follow it.
func (p *parser) qualified() ObservationExpr {
	var e ObservationExpr
	bracketed := false
	switch p.tok.kind {
	case tokLBrack:
		p.advance()
		e = &Observation{Expr: p.comparisonJoin(Or)}
		p.expect(tokRBrack, `"AND", "OR" or "]"`)
		bracketed = true
	case tokLParen:
		p.enter()
		p.advance()
		e = p.observationJoin(FollowedBy)
		p.expect(tokRParen, `"AND", "OR", "FOLLOWEDBY", a qualifier or ")"`)
		p.depth--
	default:
		p.expected(`"[" or "("`)
	}
	var seen []string
	for {
		start := p.tok
		var q Qualifier
		switch start.kind {
		case tokWithin:
			p.advance()
			q = &Within{Seconds: p.count("a number of seconds", true)}
			p.expect(tokSeconds, `"SECONDS"`)
		case tokRepeats:
			p.advance()
			q = &Repeats{Times: p.count("a number of times", false)}
			p.expect(tokTimes, `"TIMES"`)
		case tokStart:
			p.advance()
			ss := &StartStop{Start: p.timestamp()}
			p.expect(tokStop, `"STOP"`)
			ss.Stop = p.timestamp()
			q = ss
		default:
			return e
		}
		if bracketed {
			kind := qualifierKind(q)
			for _, k := range seen {
				if k == kind {
					panic(&SyntaxError{Pos: start.pos, Msg: "second " + kind + " qualifier on the same observation expression"})
				}
			}
			seen = append(seen, kind)
		}
		e = &Qualified{Expr: e, Qualifier: q}
	}
}

// count parses a non-negative integer, or number when float is set, for
// WITHIN and REPEATS.
func (p *parser) count(what string, float bool) Constant {
	t := p.tok
	if t.kind != tokInt && (t.kind != tokFloat || !float) || t.text[0] == '-' {
		p.expected(what)
	}
	p.advance()
	kind := Int
	if t.kind == tokFloat {
		kind = Float
	}
	return Constant{Kind: kind, Value: t.val}
}

func (p *parser) timestamp() Constant {
	t := p.expect(tokTimestamp, "a timestamp t'…'")
	return Constant{Kind: Timestamp, Value: t.val}
}

// comparisonJoin parses comparison expressions joined by op or by AND.
func (p *parser) comparisonJoin(op Op) ComparisonExpr {
	if op > And {
		return p.comparison()
	}
	left := p.comparisonJoin(op + 1)
	for p.tok.kind == opToken[op] {
		p.advance()
		left = &ComparisonJoin{Op: op, Left: left, Right: p.comparisonJoin(op + 1)}
	}
	return left
}

// comparison parses a parenthesised comparison expression, an EXISTS test
// or path [NOT] operator value.
func (p *parser) comparison() ComparisonExpr {
	switch p.tok.kind {
	case tokLParen:
		p.enter()
		p.advance()
		e := p.comparisonJoin(Or)
		p.expect(tokRParen, `"AND", "OR" or ")"`)
		p.depth--
		return e
	case tokNot:
		p.advance()
		p.expect(tokExists, `"EXISTS"`)
		return &Comparison{Path: p.path(), Operator: Exists, Negated: true}
	case tokExists:
		p.advance()
		return &Comparison{Path: p.path(), Operator: Exists}
	}
	c := &Comparison{Path: p.path()}
	if p.tok.kind == tokNot {
		c.Negated = true
		p.advance()
	}
	op, ok := comparisonOps[p.tok.kind]
	if !ok {
		if p.tok.kind == tokExists {
			p.fail(`"EXISTS" goes before the object path: EXISTS ` + c.Path.String())
		}
		p.expected("a comparison operator")
	}
	c.Operator = op
	p.advance()
	switch op {
	case Equal, NotEqual:
		c.Value = p.constant(true)
	case Less, LessEqual, Greater, GreaterEqual:
		c.Value = p.constant(false)
	case In:
		c.Set = p.set()
	default: // LIKE, MATCHES, ISSUBSET and ISSUPERSET take a string only
		c.Value = Constant{Kind: String, Value: p.expect(tokString, "a string").val}
	}
	return c
}

var comparisonOps = map[tokenKind]Operator{
	tokEq: Equal, tokNeq: NotEqual, tokLt: Less, tokLe: LessEqual, tokGt: Greater, tokGe: GreaterEqual,
	tokIn: In, tokLike: Like, tokMatches: Matches, tokIsSubset: IsSubset, tokIsSuperset: IsSuperset,
}

// set parses the parenthesised, possibly empty, list of an IN test.
func (p *parser) set() []Constant {
	p.expect(tokLParen, `"("`)
	set := []Constant{}
	if p.tok.kind == tokRParen {
		p.advance()
		return set
	}
	for {
		set = append(set, p.constant(true))
		if p.tok.kind == tokRParen {
			p.advance()
			return set
		}
		p.expect(tokComma, `"," or ")"`)
	}
}

var literalKind = map[tokenKind]Kind{
	tokString: String, tokInt: Int, tokFloat: Float, tokBool: Bool,
	tokTimestamp: Timestamp, tokHex: Hex, tokBinary: Binary,
}

// constant parses a literal; booleans only when withBool is set, since the
// ordering operators take no booleans (the grammar's orderableLiteral).
func (p *parser) constant(withBool bool) Constant {
	k, ok := literalKind[p.tok.kind]
	if !ok || k == Bool && !withBool {
		if withBool {
			p.expected("a constant")
		}
		p.expected("a string, number, timestamp, hex or binary constant")
	}
	c := Constant{Kind: k, Value: p.tok.val}
	p.advance()
	return c
}

// path parses an object path, objecttype:property followed by .property,
// [index] and [*] steps (STIX 2.1 §9.7).
func (p *parser) path() Path {
	if p.tok.kind != tokIdent && p.tok.kind != tokIdentHyphen {
		p.expected("an object path")
	}
	path := Path{ObjectType: p.tok.val}
	p.advance()
	p.expect(tokColon, `":"`)
	if p.tok.kind != tokIdent && p.tok.kind != tokString {
		p.expected("a property name")
	}
	// Most paths have one or two steps: room for two saves a reallocation.
	path.Steps = append(make([]Step, 0, 2), Step{Kind: KeyStep, Key: p.tok.val})
	p.advance()
	for {
		switch p.tok.kind {
		case tokDot:
			p.advance()
			path.Steps = append(path.Steps, Step{Kind: KeyStep, Key: p.key(path.Steps[len(path.Steps)-1])})
		case tokLBrack:
			p.advance()
			if p.tok.kind == tokAsterisk {
				path.Steps = append(path.Steps, Step{Kind: AnyStep})
			} else if p.tok.kind == tokInt {
				n, err := strconv.Atoi(p.tok.val)
				if err != nil {
					p.fail("list index out of range")
				}
				path.Steps = append(path.Steps, Step{Kind: IndexStep, Index: n})
			} else {
				p.expected(`a list index or "*"`)
			}
			p.advance()
			p.expect(tokRBrack, `"]"`)
		default:
			return path
		}
	}
}

// key parses the property name after a '.'. The grammar wants names with a
// '-' quoted; a hash name after "hashes" is accepted without quotes (see
// Parse).
func (p *parser) key(prev Step) string {
	switch {
	case p.tok.kind == tokIdent || p.tok.kind == tokString:
	case p.tok.kind == tokIdentHyphen && prev.Kind == KeyStep && prev.Key == "hashes":
	case p.tok.kind == tokIdentHyphen:
		p.fail(fmt.Sprintf("property name %q must be quoted: '%s'", p.tok.text, p.tok.text))
	default:
		p.expected("a property name")
	}
	k := p.tok.val
	p.advance()
	return k
}
