package dashboard

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The API's JSON is appended by hand, like the alerts topic's: the quotes
// event is built every push interval for up to every symbol, and this way
// it costs one buffer, no reflection and no map. Times are Unix ms, numbers
// plain decimals, a missing or non-finite number null.

// appendFloat appends f as a JSON number, null when NaN or infinite.
func appendFloat(dst []byte, f float64) []byte {
	return appendFloatBits(dst, f, 64)
}

// appendFloat32 appends a series value with the digits a float32 has, so
// 189.42 stored as float32 reads 189.42 again, not 189.4199981689453.
func appendFloat32(dst []byte, f float32) []byte {
	return appendFloatBits(dst, float64(f), 32)
}

func appendFloatBits(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(dst, f, 'g', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// appendOptFloat appends f, or null when ok is false.
func appendOptFloat(dst []byte, f float64, ok bool) []byte {
	if !ok {
		return append(dst, "null"...)
	}
	return appendFloat(dst, f)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// control characters and the HTML-significant <, > and & are escaped, so
// the text is inert wherever a page puts it.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendKey appends ,"name": (or without the comma first).
func appendKey(dst []byte, name string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}
