package xgboost

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// parseUBJSON parses Universal Binary JSON as xgboost writes it (the default
// format of save_model since 2.1): big-endian numbers, object keys as a
// length without the 'S' marker, and strongly typed arrays
// '[' '$' type '#' count followed by the raw elements. Untyped arrays,
// counted containers and no-op markers are accepted as the spec allows.
func parseUBJSON(data []byte) (value, error) {
	p := ubjParser{data: data}
	v, err := p.value(0)
	if err != nil {
		return value{}, err
	}
	if p.pos != len(p.data) {
		return value{}, p.errorf("%d unexpected bytes after the top-level value", len(p.data)-p.pos)
	}
	return v, nil
}

type ubjParser struct {
	data []byte
	pos  int
}

func (p *ubjParser) errorf(format string, args ...any) error {
	return fmt.Errorf("ubjson offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *ubjParser) need(n int) error {
	if n < 0 || len(p.data)-p.pos < n {
		return p.errorf("unexpected end of input (truncated file?)")
	}
	return nil
}

func (p *ubjParser) byte() (byte, error) {
	if err := p.need(1); err != nil {
		return 0, err
	}
	b := p.data[p.pos]
	p.pos++
	return b, nil
}

// marker reads the next type marker, skipping no-ops.
func (p *ubjParser) marker() (byte, error) {
	for {
		b, err := p.byte()
		if err != nil || b != 'N' {
			return b, err
		}
	}
}

func (p *ubjParser) value(depth int) (value, error) {
	m, err := p.marker()
	if err != nil {
		return value{}, err
	}
	return p.typed(m, depth)
}

// typed reads a value whose marker m has been read.
func (p *ubjParser) typed(m byte, depth int) (value, error) {
	if depth > maxDepth {
		return value{}, p.errorf("nested deeper than %d levels", maxDepth)
	}
	switch m {
	case 'Z':
		return value{}, nil
	case 'T':
		return value{kind: kindBool, b: true}, nil
	case 'F':
		return value{kind: kindBool}, nil
	case 'i', 'U', 'I', 'l', 'L', 'd', 'D':
		f64, f32, err := p.scalar(m)
		return value{kind: kindNumber, f64: f64, f32: f32}, err
	case 'C':
		b, err := p.byte()
		return value{kind: kindString, str: string(rune(b))}, err
	case 'S':
		s, err := p.str()
		return value{kind: kindString, str: s}, err
	case 'H':
		s, err := p.str()
		if err != nil {
			return value{}, err
		}
		f64, err1 := strconv.ParseFloat(s, 64)
		f32, err2 := strconv.ParseFloat(s, 32)
		if (err1 != nil && !isRange(err1)) || (err2 != nil && !isRange(err2)) {
			return value{}, p.errorf("bad high-precision number %q", s)
		}
		return value{kind: kindNumber, f64: f64, f32: float32(f32)}, nil
	case '[':
		return p.array(depth)
	case '{':
		return p.object(depth)
	}
	return value{}, p.errorf("unknown type marker %q", m)
}

// width is the size of a fixed-size element type, 0 for others.
func width(m byte) int {
	switch m {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	}
	return 0
}

func (p *ubjParser) scalar(m byte) (float64, float32, error) {
	w := width(m)
	if err := p.need(w); err != nil {
		return 0, 0, err
	}
	b := p.data[p.pos : p.pos+w]
	p.pos += w
	switch m {
	case 'i':
		v := int8(b[0])
		return float64(v), float32(v), nil
	case 'U':
		return float64(b[0]), float32(b[0]), nil
	case 'I':
		v := int16(binary.BigEndian.Uint16(b))
		return float64(v), float32(v), nil
	case 'l':
		v := int32(binary.BigEndian.Uint32(b))
		return float64(v), float32(v), nil
	case 'L':
		v := int64(binary.BigEndian.Uint64(b))
		return float64(v), float32(v), nil
	case 'd':
		v := math.Float32frombits(binary.BigEndian.Uint32(b))
		return float64(v), v, nil
	default: // 'D'
		v := math.Float64frombits(binary.BigEndian.Uint64(b))
		return v, float32(v), nil
	}
}

// count reads a length: an integer value of any integer type.
func (p *ubjParser) count() (int, error) {
	m, err := p.marker()
	if err != nil {
		return 0, err
	}
	switch m {
	case 'i', 'U', 'I', 'l', 'L':
	default:
		return 0, p.errorf("want an integer length, got marker %q", m)
	}
	f, _, err := p.scalar(m)
	if err != nil {
		return 0, err
	}
	// Every element takes at least one byte, so a count beyond the rest of
	// the input is a lie; checking here keeps a corrupt file from asking for
	// a huge allocation.
	if f < 0 || f > float64(len(p.data)-p.pos) {
		return 0, p.errorf("length %v out of range (%d bytes left; truncated or corrupt file?)", f, len(p.data)-p.pos)
	}
	return int(f), nil
}

func (p *ubjParser) str() (string, error) {
	n, err := p.count()
	if err != nil {
		return "", err
	}
	if err := p.need(n); err != nil {
		return "", err
	}
	s := string(p.data[p.pos : p.pos+n])
	p.pos += n
	return s, nil
}

// header reads the optional '$' type and '#' count of a container.
func (p *ubjParser) header() (elem byte, n int, counted bool, err error) {
	if p.pos < len(p.data) && p.data[p.pos] == '$' {
		p.pos++
		if elem, err = p.byte(); err != nil {
			return 0, 0, false, err
		}
		if p.pos >= len(p.data) || p.data[p.pos] != '#' {
			return 0, 0, false, p.errorf("typed container without a count")
		}
	}
	if p.pos < len(p.data) && p.data[p.pos] == '#' {
		p.pos++
		if n, err = p.count(); err != nil {
			return 0, 0, false, err
		}
		counted = true
	}
	return elem, n, counted, nil
}

func (p *ubjParser) array(depth int) (value, error) {
	elem, n, counted, err := p.header()
	if err != nil {
		return value{}, err
	}
	v := value{kind: kindArray}
	if w := width(elem); w > 0 && elem != 'C' {
		if err := p.need(n * w); err != nil {
			return value{}, err
		}
		v.nums = make([]float64, n)
		v.f32s = make([]float32, n)
		for i := range n {
			if v.nums[i], v.f32s[i], err = p.scalar(elem); err != nil {
				return value{}, err
			}
		}
		return v, nil
	}
	for i := 0; !counted || i < n; i++ {
		var e value
		if elem != 0 {
			e, err = p.typed(elem, depth+1)
		} else {
			m, merr := p.marker()
			if merr != nil {
				return value{}, merr
			}
			if !counted && m == ']' {
				return v, nil
			}
			e, err = p.typed(m, depth+1)
		}
		if err != nil {
			return value{}, err
		}
		v.appendElem(e)
	}
	return v, nil
}

func (p *ubjParser) object(depth int) (value, error) {
	elem, n, counted, err := p.header()
	if err != nil {
		return value{}, err
	}
	v := value{kind: kindObject}
	for i := 0; !counted || i < n; i++ {
		if !counted {
			for p.pos < len(p.data) && p.data[p.pos] == 'N' {
				p.pos++
			}
			if p.pos < len(p.data) && p.data[p.pos] == '}' {
				p.pos++
				return v, nil
			}
		}
		key, err := p.str()
		if err != nil {
			return value{}, fmt.Errorf("object key: %w", err)
		}
		var val value
		if elem != 0 {
			val, err = p.typed(elem, depth+1)
		} else {
			val, err = p.value(depth + 1)
		}
		if err != nil {
			return value{}, fmt.Errorf("%s: %w", key, err)
		}
		v.obj = append(v.obj, member{key: key, val: val})
	}
	return v, nil
}
