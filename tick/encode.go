package tick

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends t to dst as one JSON object of the input contract, the
// form feeds produce and Decode reads back:
//
//	{"symbol":"AAPL","ts":1795629492123,"price":189.42,"volume":1200,"bid":189.41,"ask":189.43}
//
// ts is epoch milliseconds; bid and ask are omitted when 0. Strings and
// numbers are written byte for byte as encoding/json writes them (with HTML
// escaping off), floats in their shortest form that parses back to the same
// value. NaN and ±Inf have no JSON form and are written as null, which Decode
// rejects for price and volume (MissingField) and reads as 0 for bid and ask:
// validate ticks before encoding them. It does not allocate when dst has room.
func AppendJSON(dst []byte, t *Tick) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, t.Symbol)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, t.TS, 10)
	dst = append(dst, `,"price":`...)
	dst = appendFloat(dst, t.Price)
	dst = append(dst, `,"volume":`...)
	dst = appendFloat(dst, t.Volume)
	if t.Bid != 0 {
		dst = append(dst, `,"bid":`...)
		dst = appendFloat(dst, t.Bid)
	}
	if t.Ask != 0 {
		dst = append(dst, `,"ask":`...)
		dst = appendFloat(dst, t.Ask)
	}
	return append(dst, '}')
}

// appendFloat formats like encoding/json (the ES6 number-to-string rules):
// plain decimals between 1e-6 and 1e21, exponent form outside, "e-7" not "e-07".
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off: short
// escapes for \" \\ \b \f \n \r \t, \u00XX for other control characters,
// \ufffd for invalid UTF-8 (so the output is always valid UTF-8) and \u2028,
// \u2029 escaped for JavaScript's sake. Symbols are plain ASCII and take the
// first branch only.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
