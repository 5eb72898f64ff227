package xgboost

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON parses xgboost's text JSON. It is JSON plus the bare tokens
// NaN, Infinity and -Infinity, which xgboost writes for non-finite floats and
// encoding/json rejects.
func parseJSON(data []byte) (value, error) {
	p := jsonParser{data: data}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return value{}, err
	}
	p.space()
	if p.pos != len(p.data) {
		return value{}, p.errorf("unexpected %q after the top-level value", p.data[p.pos])
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	pos  int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	line, col := 1, 1
	for _, c := range p.data[:min(p.pos, len(p.data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("json line %d col %d: %s", line, col, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, p.errorf("nested deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.data) {
		return value{}, p.errorf("unexpected end of input (truncated file?)")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == 't':
		return value{kind: kindBool, b: true}, p.literal("true")
	case c == 'f':
		return value{kind: kindBool}, p.literal("false")
	case c == 'n':
		return value{}, p.literal("null")
	case c == '-' || c == 'N' || c == 'I' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return value{}, p.errorf("unexpected %q", c)
	}
}

func (p *jsonParser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("bad literal, want %s", word)
	}
	p.pos += len(word)
	return nil
}

func (p *jsonParser) object(depth int) (value, error) {
	p.pos++ // {
	v := value{kind: kindObject}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			if p.pos >= len(p.data) {
				return value{}, p.errorf("unexpected end of input in an object (truncated file?)")
			}
			return value{}, p.errorf("want a key string, got %q", p.data[p.pos])
		}
		key, err := p.string()
		if err != nil {
			return value{}, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.errorf("want ':' after key %q", key)
		}
		p.pos++
		p.space()
		val, err := p.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.obj = append(v.obj, member{key: key, val: val})
		p.space()
		if p.pos >= len(p.data) {
			return value{}, p.errorf("unexpected end of input in an object (truncated file?)")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return value{}, p.errorf("want ',' or '}' in an object, got %q", p.data[p.pos])
		}
	}
}

func (p *jsonParser) array(depth int) (value, error) {
	p.pos++ // [
	v := value{kind: kindArray}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.space()
		e, err := p.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.appendElem(e)
		p.space()
		if p.pos >= len(p.data) {
			return value{}, p.errorf("unexpected end of input in an array (truncated file?)")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return value{}, p.errorf("want ',' or ']' in an array, got %q", p.data[p.pos])
		}
	}
}

func (p *jsonParser) number() (value, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			p.pos++
			continue
		}
		break
	}
	tok := string(p.data[start:p.pos])
	switch tok {
	case "NaN", "-NaN":
		return value{kind: kindNumber, f64: nan64(), f32: nan32()}, nil
	case "Infinity":
		return value{kind: kindNumber, f64: inf64(1), f32: float32(inf64(1))}, nil
	case "-Infinity":
		return value{kind: kindNumber, f64: inf64(-1), f32: float32(inf64(-1))}, nil
	}
	if !validJSONNumber(tok) {
		p.pos = start
		return value{}, p.errorf("bad number %q", tok)
	}
	f64, err := strconv.ParseFloat(tok, 64)
	if err != nil && !isRange(err) {
		return value{}, p.errorf("bad number %q: %v", tok, err)
	}
	f32, err := strconv.ParseFloat(tok, 32)
	if err != nil && !isRange(err) {
		return value{}, p.errorf("bad number %q: %v", tok, err)
	}
	return value{kind: kindNumber, f64: f64, f32: float32(f32)}, nil
}

// validJSONNumber checks the JSON number grammar, which is stricter than
// strconv's (no hex, no underscores, no "inf").
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func (p *jsonParser) string() (string, error) {
	p.pos++ // "
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := string(p.data[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character %#x in a string", c)
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					p.pos += 2
					r2, ok := p.hex4()
					if !ok {
						return "", p.errorf("bad \\u escape")
					}
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("bad escape \\%c", e)
		}
	}
	return "", p.errorf("unexpected end of input in a string (truncated file?)")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}
