package tick

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of the input contract.
const (
	// minTS and maxTS bound the event time in Unix milliseconds:
	// [2000-01-01T00:00:00Z, 2200-01-01T00:00:00Z). Anything earlier is almost
	// always epoch seconds sent by mistake; anything later, micro- or nanoseconds.
	minTS = 946_684_800_000
	maxTS = 7_258_118_400_000

	maxSymbolLen = 32

	// maxDepth is encoding/json's nesting limit (the tick object counts as 1),
	// so that this decoder and encoding/json accept exactly the same records.
	maxDepth = 10000
)

// DecodeError says why a record is not a tick. Reason is what the pipeline acts
// on (DLQ header, raw table, metrics); Field and Detail are for the person
// reading the dead letter.
type DecodeError struct {
	Reason Reason
	Field  string // JSON field at fault; "" when the record as a whole is
	Detail string // what is wrong, quoting the offending value or byte offset
}

// Error returns "field: detail", or just the detail for whole-record problems.
// It is always one line: values are quoted.
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

var _ error = (*DecodeError)(nil)

// ReasonOf returns OK for nil, the Reason of a (possibly wrapped) *DecodeError,
// and Malformed for any other error.
func ReasonOf(err error) Reason {
	if err == nil {
		return OK
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return Malformed
}

// Decoder turns Kafka records (key = symbol, value = JSON) into Ticks with a
// hand-written scanner, about 8–10× faster than encoding/json + time.Parse and
// allocation-free for interned symbols (BenchmarkDecode against
// BenchmarkDecodeEncodingJSON).
//
// A Decoder keeps scratch state between calls, so it is NOT safe for
// concurrent use: give each partition goroutine its own.
type Decoder struct {
	symbols  map[string]string // interned symbol strings, key == value
	maxBytes int

	// Per-call state, kept here so that Decode does not allocate.
	fields  [numFields]span // last occurrence of each known field: duplicate keys, last wins
	scratch []byte          // unescaped key, symbol or timestamp
	open    [maxDepth/64 + 1]uint64
	errPos  int    // where the scanner gave up
	errWant string // what it expected there
}

// NewDecoder returns a Decoder that interns symbols: decoded ticks of these
// symbols share one string and cost no allocation; any other valid symbol
// costs one. Records longer than maxBytes are rejected as TooLarge unparsed;
// maxBytes <= 0 means no limit.
func NewDecoder(symbols []string, maxBytes int) *Decoder {
	m := make(map[string]string, len(symbols))
	for _, s := range symbols {
		m[s] = s
	}
	return &Decoder{symbols: m, maxBytes: maxBytes}
}

// field is a key of the tick object that Decode looks at.
type field uint8

const (
	fSymbol field = iota
	fTS
	fPrice
	fVolume
	fBid
	fAsk
	numFields
	noField = numFields
)

var fieldNames = [numFields]string{"symbol", "ts", "price", "volume", "bid", "ask"}

// kind is the JSON type of a value, known from its first byte.
type kind uint8

const (
	kindAbsent kind = iota
	kindString
	kindNumber
	kindBool
	kindNull
	kindObject
	kindArray
)

var kindNames = [...]string{"nothing", "a string", "a number", "a boolean", "null", "an object", "an array"}

// span locates a field's value in the record. For strings it is the content
// between the quotes, for other kinds the raw JSON text.
type span struct {
	kind       kind
	esc        bool // string with backslash escapes: unescape before use
	start, end int
}

// Decode parses one record into *t; nil means the tick is well-formed (its
// values are checked elsewhere). Errors are *DecodeError. On error *t is left
// unchanged. Decode keeps no reference to key or value.
//
// Each field is interpreted only after the whole record has proved to be
// valid JSON, because with duplicate keys the last one wins: a broken first
// "price" does not matter when a good one follows.
func (d *Decoder) Decode(key, value []byte, t *Tick) error {
	if d.maxBytes > 0 && len(value) > d.maxBytes {
		return &DecodeError{TooLarge, "", fmt.Sprintf("record is %d bytes, limit is %d", len(value), d.maxBytes)}
	}
	d.fields = [numFields]span{}
	if !d.scanObject(value) {
		return d.malformed(value)
	}
	var out Tick
	if err := d.build(key, value, &out); err != nil {
		return err
	}
	*t = out
	return nil
}

// build interprets the fields found by scanObject. The order of the checks
// fixes which reason a record with several problems gets: symbol, key, ts,
// price, volume, bid, ask.
func (d *Decoder) build(key, b []byte, t *Tick) error {
	v := d.fields[fSymbol]
	if err := checkType(fSymbol, v, kindString, b); err != nil {
		return err
	}
	sym := b[v.start:v.end]
	if v.esc {
		d.scratch = appendUnescaped(d.scratch[:0], sym)
		sym = d.scratch
	}
	if err := checkSymbol(sym); err != nil {
		return err
	}
	if len(key) > 0 && !bytes.Equal(key, sym) {
		return &DecodeError{KeyMismatch, "symbol", fmt.Sprintf("%q differs from the Kafka key %q", string(sym), string(key))}
	}
	if s, ok := d.symbols[string(sym)]; ok {
		t.Symbol = s
	} else {
		t.Symbol = string(sym)
	}

	ts, err := d.timestamp(b)
	if err != nil {
		return err
	}
	t.TS = ts

	for _, f := range [...]field{fPrice, fVolume, fBid, fAsk} {
		v := d.fields[f]
		if (f == fBid || f == fAsk) && (v.kind == kindAbsent || v.kind == kindNull) {
			continue // optional quote: absent or null means 0
		}
		if err := checkType(f, v, kindNumber, b); err != nil {
			return err
		}
		raw := b[v.start:v.end]
		x, ok := parseFloat(raw)
		if !ok {
			return &DecodeError{BadType, fieldNames[f], fmt.Sprintf("%s overflows float64", snippet(raw))}
		}
		switch f {
		case fPrice:
			t.Price = x
		case fVolume:
			t.Volume = x
		case fBid:
			t.Bid = x
		case fAsk:
			t.Ask = x
		}
	}
	return nil
}

// checkType reports a missing or null required field (MissingField) or one of
// another JSON type than want (BadType).
func checkType(f field, v span, want kind, b []byte) *DecodeError {
	switch v.kind {
	case want:
		return nil
	case kindAbsent:
		return &DecodeError{MissingField, fieldNames[f], "required field is missing"}
	case kindNull:
		return &DecodeError{MissingField, fieldNames[f], "required field is null"}
	}
	return &DecodeError{BadType, fieldNames[f], "want " + kindNames[want] + ", got " + describeValue(v, b)}
}

// describeValue names a value's type and, for scalars, quotes it.
func describeValue(v span, b []byte) string {
	switch v.kind {
	case kindString:
		return kindNames[v.kind] + " " + snippet(b[v.start:v.end])
	case kindNumber, kindBool:
		return kindNames[v.kind] + " " + string(b[v.start:v.end])
	}
	return kindNames[v.kind]
}

// symbolChar is the symbol alphabet: letters, digits and . ^ = _ -
// (BRK.B, ^GSPC, EURUSD=X).
var symbolChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '.' || c == '^' || c == '=' || c == '_' || c == '-'
	}
	return t
}()

func checkSymbol(s []byte) *DecodeError {
	if len(s) == 0 {
		return &DecodeError{BadSymbol, "symbol", "empty"}
	}
	if len(s) > maxSymbolLen {
		return &DecodeError{BadSymbol, "symbol", fmt.Sprintf("%s is %d bytes, max %d", snippet(s), len(s), maxSymbolLen)}
	}
	for i, c := range s {
		if !symbolChar[c] {
			return &DecodeError{BadSymbol, "symbol", fmt.Sprintf("%q has %s at byte %d; allowed are A-Z a-z 0-9 . ^ = _ -", string(s), describeByte(c), i)}
		}
	}
	return nil
}

// timestamp reads ts: an RFC 3339 string or a JSON integer of epoch milliseconds.
func (d *Decoder) timestamp(b []byte) (int64, error) {
	v := d.fields[fTS]
	raw := b[v.start:v.end]
	switch v.kind {
	case kindString:
		if v.esc {
			d.scratch = appendUnescaped(d.scratch[:0], raw)
			raw = d.scratch
		}
		ms, ok := parseRFC3339(raw)
		if !ok {
			// Odd forms time.Parse still takes (",123" fraction, one-digit
			// hour, +24:00) and errors: the standard library decides and
			// pays the allocation.
			tm, err := time.Parse(time.RFC3339Nano, string(raw))
			if err != nil {
				return 0, badTimeString(raw, err)
			}
			ms = tm.UnixMilli()
		}
		if ms < minTS || ms >= maxTS {
			return 0, outOfRange(snippet(raw), ms, false)
		}
		return ms, nil
	case kindNumber:
		ms, ok := parseInt(raw)
		if !ok {
			return 0, &DecodeError{BadTimestamp, "ts", fmt.Sprintf("want epoch milliseconds as a JSON integer, got %s", snippet(raw))}
		}
		if ms < minTS || ms >= maxTS {
			return 0, outOfRange(string(raw), ms, true)
		}
		return ms, nil
	}
	if v.kind == kindAbsent || v.kind == kindNull {
		return 0, checkType(fTS, v, kindString, b)
	}
	return 0, &DecodeError{BadType, "ts", "want an RFC 3339 string or epoch milliseconds, got " + describeValue(v, b)}
}

func badTimeString(s []byte, err error) *DecodeError {
	detail := fmt.Sprintf("%s is not an RFC 3339 time like \"2026-11-25T17:58:12.123Z\"", snippet(s))
	var pe *time.ParseError
	if errors.As(err, &pe) && strings.HasSuffix(pe.Message, "out of range") {
		detail += " (" + strings.TrimPrefix(pe.Message, ": ") + ")" // "day out of range" and the like
	}
	if _, ok := parseInt(s); ok && len(s) > 0 && s[0] != '-' {
		detail += "; epoch milliseconds must be a JSON number, not a string"
	}
	return &DecodeError{BadTimestamp, "ts", detail}
}

// outOfRange explains a ts outside [2000, 2200), guessing the unit the
// producer actually used when that lands in range.
func outOfRange(shown string, ms int64, number bool) *DecodeError {
	inRange := func(x int64) bool { return x >= minTS && x < maxTS }
	hint := ""
	if number {
		switch {
		case ms >= minTS/1000 && ms < maxTS/1000: // not ms*1000: it may overflow
			hint = "; it looks like epoch SECONDS: ts must be epoch milliseconds (seconds × 1000)"
		case inRange(ms / 1000):
			hint = "; it looks like epoch microseconds: ts must be epoch milliseconds"
		case inRange(ms / 1_000_000):
			hint = "; it looks like epoch nanoseconds: ts must be epoch milliseconds"
		}
	}
	when := "before 2000-01-01"
	if ms >= maxTS {
		when = "2200-01-01 or later"
	}
	return &DecodeError{BadTimestamp, "ts", fmt.Sprintf("%s is %s%s", shown, when, hint)}
}

// parseRFC3339 is the allocation-free fast path for
// YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm), returning Unix milliseconds with the
// sub-millisecond part truncated. It accepts a subset of what time.Parse
// accepts for RFC 3339, with the same result; ok=false sends the caller to
// time.Parse for the verdict.
func parseRFC3339(s []byte) (ms int64, ok bool) {
	if len(s) < len("2006-01-02T15:04:05Z") ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	s = s[19:]

	frac := 0
	if s[0] == '.' {
		n := 1
		for ; n < len(s) && '0' <= s[n] && s[n] <= '9'; n++ {
			if n <= 3 {
				frac = frac*10 + int(s[n]-'0')
			}
		}
		if n == 1 {
			return 0, false
		}
		for k := n - 1; k < 3; k++ {
			frac *= 10 // ".1" is 100 ms
		}
		s = s[n:]
	}

	offset := 0
	switch {
	case len(s) == 1 && s[0] == 'Z':
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		oh, ok1 := digits(s[1:3])
		om, ok2 := digits(s[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = (oh*60 + om) * 60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}

	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return secs*1000 + int64(frac), true
}

// digits parses a short run of ASCII digits.
func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
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

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm; eras of 400 years start on March 1).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                  // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1 // [0, 365], from March 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseInt parses a valid JSON number that must be an integer; a fraction or
// an exponent makes ok false. Beyond int64 it saturates, which the range
// check then reports.
func parseInt(raw []byte) (n int64, ok bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	if len(raw) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u <= math.MaxInt64 { // stop growing once saturated, before uint64 overflows
			u = u*10 + uint64(c-'0')
		}
	}
	switch {
	case u > math.MaxInt64 && neg:
		return math.MinInt64, true
	case u > math.MaxInt64:
		return math.MaxInt64, true
	case neg:
		return -int64(u), true
	}
	return int64(u), true
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a valid JSON number. Prices have few digits, so most
// take Clinger's fast path: an integer mantissa below 2^53 and a power of ten
// up to 1e22 are both exact in float64, and one IEEE multiplication or
// division of exact values is correctly rounded, so the result equals
// strconv.ParseFloat's. Others go to strconv. ok=false means overflow.
func parseFloat(raw []byte) (float64, bool) {
	i, neg := 0, raw[0] == '-'
	if neg {
		i = 1
	}
	var mant uint64
	exp := 0
	slow := false
	for ; i < len(raw) && '0' <= raw[i] && raw[i] <= '9'; i++ {
		mant = mant*10 + uint64(raw[i]-'0')
		slow = slow || mant >= 1<<53
	}
	if i < len(raw) && raw[i] == '.' {
		for i++; i < len(raw) && '0' <= raw[i] && raw[i] <= '9'; i++ {
			mant = mant*10 + uint64(raw[i]-'0')
			slow = slow || mant >= 1<<53
			exp--
		}
	}
	if i < len(raw) { // exponent
		i++
		eneg := raw[i] == '-'
		if raw[i] == '-' || raw[i] == '+' {
			i++
		}
		e := 0
		for ; i < len(raw); i++ {
			if e < 10000 {
				e = e*10 + int(raw[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if slow || exp < -22 || exp > 22 {
		// string(raw) does not escape ParseFloat (it copies on error), so it
		// stays on the stack up to 32 bytes.
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	f := float64(mant)
	if exp < 0 {
		f /= pow10[-exp]
	} else {
		f *= pow10[exp]
	}
	if neg {
		f = -f
	}
	return f, true
}

// ---- JSON scanning ----
//
// The scanner validates the whole record as strictly as encoding/json does
// (same grammar, same nesting limit), records where the six known fields'
// values are, and skips everything else.

// scanObject scans the record; false means malformed, with d.errPos and
// d.errWant saying where and what was expected.
func (d *Decoder) scanObject(b []byte) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return d.reject(i, "'{': a tick is a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return d.reject(i, "a string key")
			}
			end, esc := d.scanString(b, i)
			if end < 0 {
				return false
			}
			f := d.fieldOf(b[i+1:end-1], esc)
			if i = skipWS(b, end); i >= len(b) || b[i] != ':' {
				return d.reject(i, "':' after an object key")
			}
			if i = skipWS(b, i+1); i >= len(b) {
				return d.reject(i, "a value")
			}
			v := span{kind: kindOf(b[i]), start: i}
			switch v.kind {
			case kindString:
				end, v.esc = d.scanString(b, i)
				v.start, v.end = i+1, end-1
			case kindObject, kindArray:
				end = d.skipNested(b, i)
				v.end = end
			default:
				end = d.scanScalar(b, i)
				v.end = end
			}
			if end < 0 {
				return false
			}
			if f != noField {
				d.fields[f] = v
			}
			if i = skipWS(b, end); i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return d.reject(i, "',' or '}' after an object value")
		}
	}
	if i = skipWS(b, i); i < len(b) {
		return d.reject(i, "end of record after the closing '}'")
	}
	return true
}

// fieldOf maps an object key (raw string content) to the field it names.
func (d *Decoder) fieldOf(k []byte, esc bool) field {
	if esc {
		// Each ASCII character takes at most 6 bytes escaped ("\u0073"), so
		// a longer key cannot spell one of ours: don't grow scratch for it.
		if len(k) > 6*len("symbol") {
			return noField
		}
		d.scratch = appendUnescaped(d.scratch[:0], k)
		k = d.scratch
	}
	switch string(k) {
	case "symbol":
		return fSymbol
	case "ts":
		return fTS
	case "price":
		return fPrice
	case "volume":
		return fVolume
	case "bid":
		return fBid
	case "ask":
		return fAsk
	}
	return noField
}

func kindOf(c byte) kind {
	switch c {
	case '"':
		return kindString
	case '{':
		return kindObject
	case '[':
		return kindArray
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	}
	return kindNumber // or garbage: scanScalar decides
}

// fail records a syntax error at byte i and returns -1.
func (d *Decoder) fail(i int, want string) int {
	d.errPos, d.errWant = i, want
	return -1
}

// reject is fail for functions that report with a bool.
func (d *Decoder) reject(i int, want string) bool {
	d.fail(i, want)
	return false
}

func (d *Decoder) malformed(b []byte) error {
	var detail string
	switch {
	case len(b) == 0:
		detail = "empty record, want a JSON object"
	case d.errPos >= len(b):
		detail = fmt.Sprintf("truncated: record ends after %d bytes, want %s", len(b), d.errWant)
	default:
		detail = fmt.Sprintf("unexpected %s at byte %d, want %s", describeByte(b[d.errPos]), d.errPos, d.errWant)
	}
	return &DecodeError{Malformed, "", "malformed JSON: " + detail}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// stringStop marks the bytes that end a run of plain string content.
var stringStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanString scans the string starting at the quote b[i] and returns the
// index after its closing quote (-1 on error) and whether it has escapes.
func (d *Decoder) scanString(b []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; ; {
		for j < len(b) && !stringStop[b[j]] {
			j++
		}
		switch {
		case j >= len(b):
			return d.fail(len(b), "'\"' closing the string"), false
		case b[j] == '"':
			return j + 1, esc
		case b[j] < 0x20:
			return d.fail(j, "control characters in strings escaped"), false
		}
		// A backslash.
		esc = true
		if j+1 >= len(b) {
			return d.fail(j+1, "an escape sequence"), false
		}
		switch b[j+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			j += 2
		case 'u':
			for k := j + 2; k < j+6; k++ {
				if k >= len(b) || unhex(b[k]) < 0 {
					return d.fail(k, `4 hex digits after \u`), false
				}
			}
			j += 6
		default:
			return d.fail(j+1, `an escape: \" \\ \/ \b \f \n \r \t or \uXXXX`), false
		}
	}
}

// scanScalar scans a number, true, false or null at b[i].
func (d *Decoder) scanScalar(b []byte, i int) int {
	switch c := b[i]; {
	case c == '"':
		end, _ := d.scanString(b, i)
		return end
	case c == '-' || '0' <= c && c <= '9':
		return d.scanNumber(b, i)
	case c == 't':
		return d.scanLiteral(b, i, "true")
	case c == 'f':
		return d.scanLiteral(b, i, "false")
	case c == 'n':
		return d.scanLiteral(b, i, "null")
	}
	return d.fail(i, "a value")
}

func (d *Decoder) scanLiteral(b []byte, i int, lit string) int {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return d.fail(i+k, lit)
		}
	}
	return i + len(lit)
}

// scanNumber checks the JSON number grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
// which is stricter than strconv's (no "+1", ".5", "1.", "0x1p3", "Inf").
func (d *Decoder) scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return d.fail(i, "a digit")
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			return d.fail(i, "a digit after the decimal point")
		}
		i = skipDigits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return d.fail(i, "a digit in the exponent")
		}
		i = skipDigits(b, i+1)
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// skipNested validates and skips the object or array starting at b[i]
// without recursion; d.open remembers which kind each level is.
func (d *Decoder) skipNested(b []byte, i int) int {
	depth := 0 // containers open inside the tick object
	for {
		// Here b[i] starts a value.
		if i >= len(b) {
			return d.fail(i, "a value")
		}
		if c := b[i]; c == '{' || c == '[' {
			if depth+2 > maxDepth { // +1 for the tick object itself
				return d.fail(i, "nesting no deeper than 10000 levels (encoding/json's limit)")
			}
			d.setOpen(depth, c == '{')
			depth++
			if i = skipWS(b, i+1); i < len(b) && (b[i] == '}' && c == '{' || b[i] == ']' && c == '[') {
				i++
				depth--
			} else {
				if c == '{' {
					if i = d.scanKey(b, i); i < 0 {
						return -1
					}
				}
				continue
			}
		} else if i = d.scanScalar(b, i); i < 0 {
			return -1
		}

		// A value ended: close containers until one continues with ','.
		for {
			if depth == 0 {
				return i
			}
			obj := d.isOpenObject(depth - 1)
			i = skipWS(b, i)
			switch {
			case i < len(b) && b[i] == ',':
				i = skipWS(b, i+1)
				if obj {
					if i = d.scanKey(b, i); i < 0 {
						return -1
					}
				}
			case i < len(b) && obj && b[i] == '}', i < len(b) && !obj && b[i] == ']':
				i++
				depth--
				continue
			case obj:
				return d.fail(i, "',' or '}' after an object value")
			default:
				return d.fail(i, "',' or ']' after an array element")
			}
			break
		}
	}
}

// scanKey scans `"key" :` and the whitespace after it.
func (d *Decoder) scanKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return d.fail(i, "a string key")
	}
	if i, _ = d.scanString(b, i); i < 0 {
		return -1
	}
	if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
		return d.fail(i, "':' after an object key")
	}
	return skipWS(b, i+1)
}

func (d *Decoder) setOpen(depth int, obj bool) {
	if obj {
		d.open[depth/64] |= 1 << (depth % 64)
	} else {
		d.open[depth/64] &^= 1 << (depth % 64)
	}
}

func (d *Decoder) isOpenObject(depth int) bool { return d.open[depth/64]>>(depth%64)&1 == 1 }

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// appendUnescaped appends the content of a JSON string already validated by
// scanString, resolving escapes as encoding/json does (a lone surrogate
// becomes U+FFFD).
func appendUnescaped(dst, s []byte) []byte {
	u4 := func(s []byte) rune {
		return rune(unhex(s[0])<<12 | unhex(s[1])<<8 | unhex(s[2])<<4 | unhex(s[3]))
	}
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			dst = append(dst, s[i])
			i++
			continue
		}
		c := s[i+1]
		i += 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := u4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = u4(s[i+2:])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // " \ /
			dst = append(dst, c)
		}
	}
	return dst
}

// snippet quotes a value for an error message, cut to keep the line short.
func snippet(s []byte) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(string(s[:max])) + "…"
	}
	return strconv.Quote(string(s))
}

func describeByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
