package sqlparse

import "strings"

// Limits enforced before and while lexing.
const (
	maxStatementLen = 1 << 20
	maxDepth        = 1000
)

type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokIdent          // unquoted identifier or keyword; val as written
	tokQuoted         // "quoted identifier"; val unescaped
	tokString         // string literal; val unescaped
	tokNumber         // numeric literal; val as written
	tokParam          // $1, $name or ?
	tokOp             // operator or punctuation
)

// token is one lexical token. start and end are byte offsets into the source,
// so that any run of tokens can be sliced verbatim. depth is the bracket
// nesting level the token sits at; an opening or closing bracket carries the
// level outside it.
type token struct {
	kind       tokKind
	val        string
	start, end int
	depth      int
}

// multiOps are the multi-character operators, longest first.
var multiOps = []string{
	"->>", "<=", ">=", "<>", "!=", "::", "||", "->", "=>", ":=", "**", "<<", ">>", "==", "@>", "<@", "^@", "!~", "~~",
}

const singleOps = "+-*/%<>=!~^&|#@:,.()[]{}"

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// lex tokenizes src. It stops at the first ';' and fails if anything but
// whitespace and comments follows it. The returned slice always ends with a
// tokEOF token positioned at the ';' or at the end of src.
func lex(src string) ([]token, error) {
	if k := strings.IndexByte(src, 0); k >= 0 {
		// DuckDB's C API would truncate the statement there.
		return nil, synErr(k, "NUL byte in statement")
	}
	var toks []token
	var stack []int // offsets of unclosed brackets
	var closers []byte
	n := len(src)
	eof := n
	ended := false
	i := 0
	for {
		// Whitespace and comments.
		for i < n {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				i++
				continue
			}
			if c == '-' && i+1 < n && src[i+1] == '-' {
				for i < n && src[i] != '\n' {
					i++
				}
				continue
			}
			if c == '/' && i+1 < n && src[i+1] == '*' {
				j := strings.Index(src[i+2:], "*/")
				if j < 0 {
					return nil, synErr(i, "unterminated block comment")
				}
				body := src[i+2 : i+2+j]
				if strings.Contains(body, "/*") {
					return nil, synErr(i, "nested block comments are not supported")
				}
				i += 2 + j + 2
				continue
			}
			break
		}
		if i >= n {
			break
		}
		if ended {
			return nil, synErr(i, "multiple statements are not allowed")
		}
		c := src[i]
		t := token{start: i, depth: len(stack)}
		switch {
		case c == ';':
			if len(stack) > 0 {
				return nil, synErr(i, "unexpected ';' inside brackets")
			}
			ended = true
			eof = i
			i++
			continue
		case (c == 'e' || c == 'E') && i+1 < n && src[i+1] == '\'':
			end, val, ok := lexQuoted(src, i+1, '\'', true)
			if !ok {
				return nil, synErr(i, "unterminated string literal")
			}
			t.kind, t.val, i = tokString, val, end
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdentCont(src[j]) {
				j++
			}
			t.kind, t.val, i = tokIdent, src[i:j], j
		case c == '"':
			end, val, ok := lexQuoted(src, i, '"', false)
			if !ok {
				return nil, synErr(i, "unterminated quoted identifier")
			}
			t.kind, t.val, i = tokQuoted, val, end
		case c == '\'':
			end, val, ok := lexQuoted(src, i, '\'', false)
			if !ok {
				return nil, synErr(i, "unterminated string literal")
			}
			t.kind, t.val, i = tokString, val, end
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(src[i+1])):
			j := i
			for j < n && isDigit(src[j]) {
				j++
			}
			if j < n && src[j] == '.' {
				j++
				for j < n && isDigit(src[j]) {
					j++
				}
			}
			if j < n && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < n && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < n && isDigit(src[k]) {
					for k < n && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			t.kind, t.val, i = tokNumber, src[i:j], j
		case c == '$':
			j := i + 1
			if j < n && isDigit(src[j]) {
				for j < n && isDigit(src[j]) {
					j++
				}
				t.kind, t.val, i = tokParam, src[i:j], j
				break
			}
			for j < n && (isIdentStart(src[j]) || isDigit(src[j])) {
				j++
			}
			if j < n && src[j] == '$' {
				// Dollar-quoted string $tag$...$tag$.
				delim := src[i : j+1]
				k := strings.Index(src[j+1:], delim)
				if k < 0 {
					return nil, synErr(i, "unterminated dollar-quoted string")
				}
				t.kind, t.val, i = tokString, src[j+1:j+1+k], j+1+k+len(delim)
				break
			}
			if j == i+1 {
				return nil, synErr(i, "unexpected character '$'")
			}
			t.kind, t.val, i = tokParam, src[i:j], j
		case c == '?':
			t.kind, t.val, i = tokParam, "?", i+1
		default:
			op := ""
			for _, m := range multiOps {
				if strings.HasPrefix(src[i:], m) {
					op = m
					break
				}
			}
			if op == "" {
				if strings.IndexByte(singleOps, c) < 0 {
					return nil, synErr(i, "unexpected character %q", rune(c))
				}
				op = src[i : i+1]
			}
			t.kind, t.val, i = tokOp, op, i+len(op)
			switch op {
			case "(", "[", "{":
				stack = append(stack, t.start)
				closers = append(closers, closerOf(op[0]))
				if len(stack) > maxDepth {
					return nil, synErr(t.start, "statement nested too deeply")
				}
			case ")", "]", "}":
				if len(stack) == 0 || closers[len(closers)-1] != op[0] {
					return nil, synErr(t.start, "unexpected '%s'", op)
				}
				stack = stack[:len(stack)-1]
				closers = closers[:len(closers)-1]
				t.depth = len(stack)
			}
		}
		t.end = i
		toks = append(toks, t)
	}
	if len(stack) > 0 {
		return nil, synErr(stack[len(stack)-1], "unclosed '%c'", src[stack[len(stack)-1]])
	}
	toks = append(toks, token{kind: tokEOF, start: eof, end: eof})
	return toks, nil
}

// lexQuoted scans a literal delimited by q starting at src[i] == q. A doubled
// q stands for one q; with backslash, '\' escapes the next byte. It returns
// the offset after the closing quote and the unescaped content.
func lexQuoted(src string, i int, q byte, backslash bool) (int, string, bool) {
	var b strings.Builder
	for j := i + 1; j < len(src); {
		c := src[j]
		switch {
		case backslash && c == '\\':
			if j+1 >= len(src) {
				return 0, "", false
			}
			switch e := src[j+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(e)
			}
			j += 2
		case c == q:
			if j+1 < len(src) && src[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			return j + 1, b.String(), true
		default:
			b.WriteByte(c)
			j++
		}
	}
	return 0, "", false
}

func closerOf(open byte) byte {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}
