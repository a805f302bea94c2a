package pattern

import (
	"strconv"
	"strings"
)

// Pattern is a parsed STIX 2.1 pattern (STIX 2.1 §9). Parentheses are not
// kept as nodes: the tree's shape records the grouping, and String puts back
// the parentheses that shape needs.
type Pattern struct {
	Expr ObservationExpr
}

// String returns the canonical text of the pattern: single spaces around
// operators, no redundant parentheses, upper-case keywords, strings quoted
// with only ' and \ escaped, and hyphenated property names quoted.
// Parse(p.String()) yields a Pattern equal to p.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObservation(&b, p.Expr)
	return b.String()
}

// ObservationExpr is an *Observation, an *ObservationJoin or a *Qualified.
type ObservationExpr interface {
	observationExpr()
}

// ComparisonExpr is a *Comparison or a *ComparisonJoin.
type ComparisonExpr interface {
	comparisonExpr()
}

// Observation is a bracketed observation expression, [ ... ].
type Observation struct {
	Expr ComparisonExpr
}

// ObservationJoin joins two observation expressions with AND, OR or
// FOLLOWEDBY (STIX 2.1 §9.5). Chains are left-associative.
type ObservationJoin struct {
	Op          Op
	Left, Right ObservationExpr
}

// Qualified applies one qualifier to an observation expression (STIX 2.1
// §9.5). Several qualifiers nest, the last one written outermost.
type Qualified struct {
	Expr      ObservationExpr
	Qualifier Qualifier
}

// ComparisonJoin joins two comparison expressions with AND or OR inside the
// brackets of an observation (STIX 2.1 §9.6). Chains are left-associative.
type ComparisonJoin struct {
	Op          Op
	Left, Right ComparisonExpr
}

func (*Observation) observationExpr()     {}
func (*ObservationJoin) observationExpr() {}
func (*Qualified) observationExpr()       {}
func (*Comparison) comparisonExpr()       {}
func (*ComparisonJoin) comparisonExpr()   {}

// Op is a boolean or observation operator.
type Op int

// Operators, loosest-binding first: FOLLOWEDBY < OR < AND (STIX 2.1 §9.5).
// FollowedBy joins observations only.
const (
	FollowedBy Op = iota + 1
	Or
	And
)

// String returns the operator's keyword.
func (o Op) String() string {
	switch o {
	case FollowedBy:
		return "FOLLOWEDBY"
	case Or:
		return "OR"
	case And:
		return "AND"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Qualifier is a *Within, a *Repeats or a *StartStop.
type Qualifier interface {
	qualifier()
}

// Within is WITHIN n SECONDS; Seconds is an Int or Float constant, never
// negative.
type Within struct {
	Seconds Constant
}

// Repeats is REPEATS n TIMES; Times is a non-negative Int constant.
type Repeats struct {
	Times Constant
}

// StartStop is START t'…' STOP t'…'; both are Timestamp constants.
type StartStop struct {
	Start, Stop Constant
}

func (*Within) qualifier()    {}
func (*Repeats) qualifier()   {}
func (*StartStop) qualifier() {}

// Comparison is one comparison expression: object path, operator, value.
type Comparison struct {
	Path     Path
	Operator Operator
	// Negated is set when NOT precedes the operator (or EXISTS).
	Negated bool
	// Value is the right-hand constant; unused for In and Exists.
	Value Constant
	// Set holds the members of an IN list, possibly none.
	Set []Constant
}

// Operator is a comparison operator (STIX 2.1 §9.6).
type Operator int

// Comparison operators.
const (
	Equal Operator = iota + 1
	NotEqual
	Less
	LessEqual
	Greater
	GreaterEqual
	In
	Like
	Matches
	IsSubset
	IsSuperset
	Exists
)

var operatorText = [...]string{
	Equal:        "=",
	NotEqual:     "!=",
	Less:         "<",
	LessEqual:    "<=",
	Greater:      ">",
	GreaterEqual: ">=",
	In:           "IN",
	Like:         "LIKE",
	Matches:      "MATCHES",
	IsSubset:     "ISSUBSET",
	IsSuperset:   "ISSUPERSET",
	Exists:       "EXISTS",
}

// String returns the operator as written in a pattern.
func (o Operator) String() string {
	if o > 0 && int(o) < len(operatorText) {
		return operatorText[o]
	}
	return "Operator(" + strconv.Itoa(int(o)) + ")"
}

// Path is an object path: an object type and at least one step, the first
// of which is a property name (STIX 2.1 §9.7).
type Path struct {
	ObjectType string
	Steps      []Step
}

// StepKind tells which kind of step a Step is.
type StepKind int

// Step kinds.
const (
	KeyStep   StepKind = iota + 1 // .name or .'quoted name'
	IndexStep                     // [n] or [-n]
	AnyStep                       // [*]
)

// Step is one component of an object path.
type Step struct {
	Kind  StepKind
	Key   string // the property name, for KeyStep
	Index int    // the list index, for IndexStep; negative counts from the end
}

// String returns the path as written in a canonical pattern.
func (p Path) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// Is reports whether p is objectType:keys[0].keys[1]… made only of key steps.
func (p Path) Is(objectType string, keys ...string) bool {
	if p.ObjectType != objectType || len(p.Steps) != len(keys) {
		return false
	}
	for i, s := range p.Steps {
		if s.Kind != KeyStep || s.Key != keys[i] {
			return false
		}
	}
	return true
}

// Kind is the kind of a constant (STIX 2.1 §9.2).
type Kind int

// Constant kinds.
const (
	String    Kind = iota + 1 // 'text'
	Int                       // 42, -7
	Float                     // 1.5, -.5
	Bool                      // true, false
	Timestamp                 // t'2016-01-20T12:31:12.12345Z'
	Hex                       // h'ff00'
	Binary                    // b'SGVsbG8='
)

// Constant is a literal value. Value holds the decoded text of a string, the
// digits of a number (a leading '+' dropped), "true" or "false", or the text
// between the quotes of a t”, h” or b” literal.
type Constant struct {
	Kind  Kind
	Value string
}

// String returns the constant as written in a canonical pattern.
func (c Constant) String() string {
	var b strings.Builder
	writeConstant(&b, c)
	return b.String()
}

func writeObservation(b *strings.Builder, e ObservationExpr) {
	switch e := e.(type) {
	case *Observation:
		b.WriteByte('[')
		writeComparison(b, e.Expr)
		b.WriteByte(']')
	case *ObservationJoin:
		writeObservationOperand(b, e.Left, observationBinds(e.Left) < e.Op)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeObservationOperand(b, e.Right, observationBinds(e.Right) <= e.Op)
	case *Qualified:
		writeObservationOperand(b, e.Expr, needsGroup(e))
		writeQualifier(b, e.Qualifier)
	}
}

// observationBinds is how tightly e holds together as an operand: a join
// binds as its operator, anything else tighter than every operator.
func observationBinds(e ObservationExpr) Op {
	if j, ok := e.(*ObservationJoin); ok {
		return j.Op
	}
	return And + 1
}

// needsGroup reports whether q's operand must be parenthesised: a join
// always, since qualifiers bind tighter than any operator, and a bracketed
// observation that already carries a qualifier of q's kind, which Parse
// rejects unless parentheses separate the two (the OASIS validator's rule).
func needsGroup(q *Qualified) bool {
	if _, ok := q.Expr.(*ObservationJoin); ok {
		return true
	}
	dup := false
	for e := q.Expr; ; {
		switch inner := e.(type) {
		case *Qualified:
			dup = dup || qualifierKind(inner.Qualifier) == qualifierKind(q.Qualifier)
			e = inner.Expr
		case *Observation:
			return dup
		default:
			return false
		}
	}
}

// qualifierKind names the kind of q, for the one-of-each-kind rule.
func qualifierKind(q Qualifier) string {
	switch q.(type) {
	case *Within:
		return "WITHIN"
	case *Repeats:
		return "REPEATS"
	case *StartStop:
		return "START"
	}
	return ""
}

func writeObservationOperand(b *strings.Builder, e ObservationExpr, group bool) {
	if group {
		b.WriteByte('(')
	}
	writeObservation(b, e)
	if group {
		b.WriteByte(')')
	}
}

func writeQualifier(b *strings.Builder, q Qualifier) {
	switch q := q.(type) {
	case *Within:
		b.WriteString(" WITHIN ")
		writeConstant(b, q.Seconds)
		b.WriteString(" SECONDS")
	case *Repeats:
		b.WriteString(" REPEATS ")
		writeConstant(b, q.Times)
		b.WriteString(" TIMES")
	case *StartStop:
		b.WriteString(" START ")
		writeConstant(b, q.Start)
		b.WriteString(" STOP ")
		writeConstant(b, q.Stop)
	}
}

func writeComparison(b *strings.Builder, e ComparisonExpr) {
	switch e := e.(type) {
	case *ComparisonJoin:
		writeComparisonOperand(b, e.Left, comparisonBinds(e.Left) < e.Op)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeComparisonOperand(b, e.Right, comparisonBinds(e.Right) <= e.Op)
	case *Comparison:
		if e.Operator == Exists {
			if e.Negated {
				b.WriteString("NOT ")
			}
			b.WriteString("EXISTS ")
			writePath(b, e.Path)
			return
		}
		writePath(b, e.Path)
		if e.Negated {
			b.WriteString(" NOT")
		}
		b.WriteByte(' ')
		b.WriteString(e.Operator.String())
		b.WriteByte(' ')
		if e.Operator != In {
			writeConstant(b, e.Value)
			return
		}
		b.WriteByte('(')
		for i, c := range e.Set {
			if i > 0 {
				b.WriteString(", ")
			}
			writeConstant(b, c)
		}
		b.WriteByte(')')
	}
}

func comparisonBinds(e ComparisonExpr) Op {
	if j, ok := e.(*ComparisonJoin); ok {
		return j.Op
	}
	return And + 1
}

func writeComparisonOperand(b *strings.Builder, e ComparisonExpr, group bool) {
	if group {
		b.WriteByte('(')
	}
	writeComparison(b, e)
	if group {
		b.WriteByte(')')
	}
}

func writePath(b *strings.Builder, p Path) {
	b.WriteString(p.ObjectType)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case KeyStep:
			if i > 0 {
				b.WriteByte('.')
			}
			if bareName(s.Key) {
				b.WriteString(s.Key)
			} else {
				writeQuoted(b, s.Key)
			}
		case IndexStep:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case AnyStep:
			b.WriteString("[*]")
		}
	}
}

// bareName reports whether a property name may be written unquoted: the
// grammar's IdentifierWithoutHyphen, and not a word the lexer reserves.
func bareName(s string) bool {
	if s == "" || !identStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !identPart(s[i]) || s[i] == '-' {
			return false
		}
	}
	_, reserved := keywords[s]
	return !reserved
}

func writeConstant(b *strings.Builder, c Constant) {
	switch c.Kind {
	case String:
		writeQuoted(b, c.Value)
	case Timestamp:
		b.WriteByte('t')
		writeQuoted(b, c.Value)
	case Hex:
		b.WriteByte('h')
		writeQuoted(b, c.Value)
	case Binary:
		b.WriteByte('b')
		writeQuoted(b, c.Value)
	default:
		b.WriteString(c.Value)
	}
}

// writeQuoted writes s as a string literal; STIX 2.1 §9.2 allows only \' and
// \\ as escapes, so every other character is written as is.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}
