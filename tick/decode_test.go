package tick

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testSymbols are the interned symbols of the test decoders.
var testSymbols = []string{"AAPL", "BRK.B", "^GSPC", "EURUSD=X"}

const testMaxBytes = 512

var refSymbol = regexp.MustCompile(`^[A-Za-z0-9.^=_-]{1,32}$`)

// refDecode is the independent reference the decoder is checked against:
// encoding/json parses the JSON (duplicate keys: last wins, keys unescaped),
// time.Parse the RFC 3339 strings, strconv the numbers, a regexp checks the
// symbol. It applies the contract's checks in the order Decode documents:
// size, syntax, symbol, key, ts, price, volume, bid, ask.
func refDecode(key, value []byte, maxBytes int) (Tick, Reason) {
	var t Tick
	if maxBytes > 0 && len(value) > maxBytes {
		return t, TooLarge
	}
	if v := bytes.TrimLeft(value, " \t\r\n"); len(v) == 0 || v[0] != '{' {
		return t, Malformed // json.Unmarshal accepts null into a map
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(value, &m); err != nil {
		return t, Malformed
	}
	// get returns the field as a string, json.Number, other type, or nil
	// when it is absent or null.
	get := func(name string) any {
		raw, ok := m[name]
		if !ok {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			panic(err) // encoding/json has just accepted it
		}
		return v
	}

	switch s := get("symbol").(type) {
	case nil:
		return t, MissingField
	case string:
		if !refSymbol.MatchString(s) {
			return t, BadSymbol
		}
		if len(key) > 0 && string(key) != s {
			return t, KeyMismatch
		}
		t.Symbol = s
	default:
		return t, BadType
	}

	switch ts := get("ts").(type) {
	case nil:
		return t, MissingField
	case string:
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return t, BadTimestamp
		}
		t.TS = tm.UnixMilli()
	case json.Number:
		ms, err := strconv.ParseInt(string(ts), 10, 64)
		if err != nil {
			return t, BadTimestamp
		}
		t.TS = ms
	default:
		return t, BadType
	}
	lo := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	hi := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	if t.TS < lo || t.TS >= hi {
		return t, BadTimestamp
	}

	for _, f := range []struct {
		name     string
		dst      *float64
		optional bool
	}{{"price", &t.Price, false}, {"volume", &t.Volume, false}, {"bid", &t.Bid, true}, {"ask", &t.Ask, true}} {
		switch n := get(f.name).(type) {
		case nil:
			if !f.optional {
				return t, MissingField
			}
		case json.Number:
			x, err := strconv.ParseFloat(string(n), 64)
			if err != nil {
				return t, BadType
			}
			*f.dst = x
		default:
			return t, BadType
		}
	}
	return t, OK
}

// sameTick compares floats bit for bit: -0 and 0 differ.
func sameTick(a, b Tick) bool {
	return a.Symbol == b.Symbol && a.TS == b.TS &&
		math.Float64bits(a.Price) == math.Float64bits(b.Price) &&
		math.Float64bits(a.Volume) == math.Float64bits(b.Volume) &&
		math.Float64bits(a.Bid) == math.Float64bits(b.Bid) &&
		math.Float64bits(a.Ask) == math.Float64bits(b.Ask)
}

// checkAgainstRef decodes with d and fails unless Decode and refDecode agree
// on the reason and, for accepted records, on every field. It returns the
// error for further checks.
func checkAgainstRef(t *testing.T, d *Decoder, maxBytes int, key, value []byte) error {
	t.Helper()
	var got Tick
	err := d.Decode(key, value, &got)
	want, wantReason := refDecode(key, value, maxBytes)
	if ReasonOf(err) != wantReason {
		t.Fatalf("Decode(%q, %q): reason %q (err %v), reference says %q", key, value, ReasonOf(err), err, wantReason)
	}
	if err == nil && !sameTick(got, want) {
		t.Fatalf("Decode(%q, %q):\n got %+v\nwant %+v", key, value, got, want)
	}
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode(%q, %q): error %T, want *DecodeError", key, value, err)
		}
		if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("Decode(%q, %q): error message %q is empty or not one line", key, value, msg)
		}
	}
	return err
}

// canonical is the input contract's example record.
const canonical = `{"symbol":"AAPL","ts":"2026-11-25T17:58:12.123Z","price":189.42,"volume":1200,"bid":189.41,"ask":189.43}`

func TestDecode(t *testing.T) {
	d := NewDecoder(testSymbols, testMaxBytes)
	fk := func(key, value string, want Reason) {
		t.Helper()
		err := checkAgainstRef(t, d, testMaxBytes, []byte(key), []byte(value))
		if ReasonOf(err) != want {
			t.Fatalf("Decode(%q, %q) = %v, want reason %q", key, value, err, want)
		}
	}
	f := func(value string, want Reason) {
		t.Helper()
		fk("", value, want)
	}

	// Field order, whitespace, optional fields.
	f(canonical, OK)
	f(`{"ask":189.43,"bid":189.41,"volume":1200,"price":189.42,"ts":"2026-11-25T17:58:12.123Z","symbol":"AAPL"}`, OK)
	f(" \t\r\n{ \"symbol\" : \"AAPL\" ,\n\t\"ts\" :\r1795629492123 , \"price\":189.42,\"volume\" : 0.5 } \n", OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":189.42,"volume":1200}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":189.42,"volume":1200,"bid":null,"ask":null}`, OK)
	f(`{"symbol":"MSFT","ts":1795629492123,"price":1,"volume":1}`, OK) // not interned
	f(`{"symbol":"BRK.B","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"^GSPC","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"EURUSD=X","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"A_B-C","ts":1795629492123,"price":1,"volume":1}`, OK)

	// Escapes in strings and keys.
	f(`{"symbol":"\u0041APL","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"BRK\u002eB","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"\"AAPL","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"AA\/PL","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"\u00c4PPL","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"\ud800","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"\b\f\r\t\\","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"\ud83d\ude00\uD83D\u0041","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"\u0073\u0079\u006d\u0062\u006f\u006c\u0020":"x","symbol":"AAPL","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"\u0073ymbol":"AAPL","t\u0073":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"AAPL","ts":"2026-11-25T17:58:12\u002e123Z","price":1,"volume":1}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"note":"\"}\\\n\t\ud83d\ude00\ud800x"}`, OK)

	// Unknown fields of every type are skipped, however nested.
	f(`{"meta":{"a":[1,{"b":"}]"}],"c":{},"d":[]},"symbol":"AAPL","ts":1795629492123,"x":[[[]],[{}]],"price":1,"volume":1}`, OK)
	f(`{"symbol":"AAPL","n":null,"t":true,"f":false,"s":"x","num":-0.5e-3,"ts":1795629492123,"price":1,"volume":1,"o":{"k":[true,false,null,"]",-1]}}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":{"k":[1,]}}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":{"k":1,}}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":{"k":1]}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":[1}}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":{"k" 1}}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":{k:1}}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"o":[tru]}`, Malformed)

	// Numbers.
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1.8942e2,"volume":1.2E+3,"bid":18941e-2,"ask":0.18943e3}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":-0,"volume":0e0,"bid":-0.0,"ask":1e-400}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":123456789012345678901234567890,"volume":0.1234567890123456789012345678901234567890}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1.7976931348623157e308,"volume":5e-324}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1e400,"volume":1}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":-1e309}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"ask":1e999}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":01,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":+1,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":.5,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1.,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1e,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":-,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":NaN,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":Infinity,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":0x10,"volume":1}`, Malformed)

	// Types and missing fields.
	f(`{"symbol":"AAPL","ts":1795629492123,"price":"189.42","volume":1}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":true}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"bid":"1"}`, BadType)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"ask":[]}`, BadType)
	f(`{"symbol":42,"ts":1795629492123,"price":1,"volume":1}`, BadType)
	f(`{"symbol":["AAPL"],"ts":1795629492123,"price":1,"volume":1}`, BadType)
	f(`{"symbol":"AAPL","ts":true,"price":1,"volume":1}`, BadType)
	f(`{"symbol":"AAPL","ts":{"ms":1},"price":1,"volume":1}`, BadType)
	f(`{"ts":1795629492123,"price":1,"volume":1}`, MissingField)
	f(`{"symbol":null,"ts":1795629492123,"price":1,"volume":1}`, MissingField)
	f(`{"symbol":"AAPL","price":1,"volume":1}`, MissingField)
	f(`{"symbol":"AAPL","ts":null,"price":1,"volume":1}`, MissingField)
	f(`{"symbol":"AAPL","ts":1795629492123,"volume":1}`, MissingField)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":null,"volume":1}`, MissingField)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1}`, MissingField)
	f(`{}`, MissingField)
	f(`{"Symbol":"AAPL","ts":1795629492123,"price":1,"volume":1}`, MissingField) // keys are case-sensitive

	// Symbols.
	f(`{"symbol":"","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"AA PL","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"AAPL\n","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"ÄPPL","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)
	f(`{"symbol":"`+strings.Repeat("A", 32)+`","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"`+strings.Repeat("A", 33)+`","ts":1795629492123,"price":1,"volume":1}`, BadSymbol)

	// Timestamps: offsets, fractions of 0..12 digits, range, epoch units.
	ts := func(s string) string { return `{"symbol":"AAPL","ts":` + s + `,"price":1,"volume":1}` }
	f(ts(`"2026-11-25T17:58:12Z"`), OK)
	f(ts(`"2026-11-25T23:28:12.123+05:30"`), OK)
	f(ts(`"2026-11-25T13:58:12.123-04:00"`), OK)
	f(ts(`"2026-11-25T17:58:12.123+00:00"`), OK)
	f(ts(`"2026-11-25T17:58:12.123-00:00"`), OK)
	f(ts(`"2026-11-25T17:58:12.123+23:59"`), OK)
	for n := 1; n <= 12; n++ {
		f(ts(`"2026-11-25T17:58:12.`+"987654321987"[:n]+`Z"`), OK)
		f(ts(`"2026-11-25T17:58:12.`+"000000000001"[:n]+`-04:00"`), OK)
	}
	f(ts(`"2026-11-25t17:58:12.123z"`), BadTimestamp) // time.Parse wants 'T' and 'Z'
	f(ts(`"2026-11-25 17:58:12.123Z"`), BadTimestamp)
	f(ts(`"2026-11-25T17:58:12.Z"`), BadTimestamp)
	f(ts(`"2026-11-25T17:58:12"`), BadTimestamp)
	f(ts(`"2026-11-25T17:58:12+0530"`), BadTimestamp)
	f(ts(`"2026-11-25T17:58:12+25:00"`), BadTimestamp)
	// Lenient forms time.Parse accepts; the fallback follows it.
	f(ts(`"2026-11-25T17:58:12+24:00"`), OK)
	f(ts(`"2026-11-25T7:58:12Z"`), OK)
	f(ts(`"2026-11-25T17:58:12,123Z"`), OK)
	f(ts(`"2026-11-25T24:00:00Z"`), BadTimestamp)
	f(ts(`"2026-11-25T23:59:60Z"`), BadTimestamp)
	f(ts(`"2026-13-01T00:00:00Z"`), BadTimestamp)
	f(ts(`"2026-02-29T00:00:00Z"`), BadTimestamp)
	f(ts(`"2100-02-29T00:00:00Z"`), BadTimestamp)
	f(ts(`"2024-02-29T00:00:00Z"`), OK)
	f(ts(`"2000-02-29T00:00:00Z"`), OK)
	f(ts(`"2000-01-01T00:00:00Z"`), OK)
	f(ts(`"1999-12-31T23:59:59.999Z"`), BadTimestamp)
	f(ts(`"2000-01-01T05:30:00+05:30"`), OK)
	f(ts(`"2000-01-01T05:29:59.999+05:30"`), BadTimestamp)
	f(ts(`"2199-12-31T23:59:59.999Z"`), OK)
	f(ts(`"2200-01-01T00:00:00Z"`), BadTimestamp)
	f(ts(`"2199-12-31T20:00:00-04:00"`), BadTimestamp)
	f(ts(`"0000-01-01T00:00:00Z"`), BadTimestamp)
	f(ts(`"9999-12-31T23:59:59Z"`), BadTimestamp)
	f(ts(`""`), BadTimestamp)
	f(ts(`"1795629492123"`), BadTimestamp)
	f(ts(`1795629492123`), OK)
	f(ts(`946684800000`), OK)
	f(ts(`946684799999`), BadTimestamp)
	f(ts(`7258118399999`), OK)
	f(ts(`7258118400000`), BadTimestamp)
	f(ts(`1795629492`), BadTimestamp)       // epoch seconds
	f(ts(`1795629492123456`), BadTimestamp) // microseconds
	f(ts(`-1795629492123`), BadTimestamp)
	f(ts(`-0`), BadTimestamp)
	f(ts(`1795629492123.0`), BadTimestamp)
	f(ts(`1.795629492123e12`), BadTimestamp)
	f(ts(`99999999999999999999999`), BadTimestamp)

	// Duplicate keys: the last one wins, whatever the earlier ones were.
	f(`{"symbol":"AAPL","ts":1795629492123,"price":"x","volume":1,"price":2}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":2,"volume":1,"price":"x"}`, BadType)
	f(`{"symbol":"A A","symbol":"AAPL","ts":"bad","ts":1795629492123,"price":1,"volume":1}`, OK)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"bid":1,"bid":null}`, OK)

	// Not JSON, not an object, broken or followed by garbage.
	f(``, Malformed)
	f(`   `, Malformed)
	f(`null`, Malformed)
	f(`[]`, Malformed)
	f(`"AAPL"`, Malformed)
	f(`123`, Malformed)
	f(`{`, Malformed)
	f(`}`, Malformed)
	f(canonical+`x`, Malformed)
	f(canonical+`{}`, Malformed)
	f(canonical+`,`, Malformed)
	f(canonical+"\x00", Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,}`, Malformed)
	f(`{"symbol":"AAPL" "ts":1795629492123,"price":1,"volume":1}`, Malformed)
	f(`{'symbol':'AAPL','ts':1795629492123,'price':1,'volume':1}`, Malformed)
	f(`{symbol:"AAPL","ts":1795629492123,"price":1,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1 /* c */}`, Malformed)
	f("{\"symbol\":\"AA\tPL\",\"ts\":1795629492123,\"price\":1,\"volume\":1}", Malformed) // raw control character
	f(`{"symbol":"AA\xPL","ts":1795629492123,"price":1,"volume":1}`, Malformed)
	f(`{"symbol":"AA\u12","ts":1795629492123,"price":1,"volume":1}`, Malformed)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"t":True}`, Malformed)
	f("\xef\xbb\xbf"+canonical, Malformed) // byte order mark
	for n := 0; n < len(canonical); n++ {
		f(canonical[:n], Malformed) // every truncation
	}

	// Kafka key.
	fk("AAPL", canonical, OK)
	fk("MSFT", canonical, KeyMismatch)
	fk("aapl", canonical, KeyMismatch)
	fk("AAPL ", canonical, KeyMismatch)
	fk("MSFT", `{"symbol":"A A","ts":1795629492123,"price":1,"volume":1}`, BadSymbol) // symbol first
	fk("MSFT", `{"symbol":"AAPL","ts":1,"price":1,"volume":1}`, KeyMismatch)          // then key

	// Size: the limit is inclusive, and an oversized record is not parsed.
	pad := func(n int) string { // canonical padded to n bytes with an unknown field
		p := canonical[:len(canonical)-1] + `,"pad":""}`
		return p[:len(p)-2] + strings.Repeat("x", n-len(p)) + `"}`
	}
	f(pad(testMaxBytes), OK)
	f(pad(testMaxBytes+1), TooLarge)
	f(strings.Repeat("x", testMaxBytes+1), TooLarge)
}

// TestDecodeErrorMessages keeps every kind of error message in a golden file,
// so that they can be read together and a change to one is seen in review.
// Run with -update to rewrite it.
func TestDecodeErrorMessages(t *testing.T) {
	d := NewDecoder(testSymbols, testMaxBytes)
	var out bytes.Buffer
	f := func(key, value string) {
		t.Helper()
		err := checkAgainstRef(t, d, testMaxBytes, []byte(key), []byte(value))
		if err == nil {
			t.Fatalf("Decode(%q, %q) succeeded, want an error", key, value)
		}
		fmt.Fprintf(&out, "key=%q value=%q\n\t%s: %v\n", key, value, ReasonOf(err), err)
	}
	rec := func(fields string) string { return `{"symbol":"AAPL",` + fields + `}` }
	f("", "")
	f("", "null")
	f("", `{"symbol":"AAPL","ts":17956`)
	f("", canonical+" x")
	f("", `{"symbol":"AAPL","ts":1795629492123,"price":01,"volume":1}`)
	f("", `{"symbol":"AA`+"\x01"+`PL"}`)
	f("", `{"symbol":"AA\qPL"}`)
	f("", `{"a":[1,2}`)
	f("", `{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,}`)
	f("", strings.Repeat("x", testMaxBytes+1))
	f("MSFT", canonical)
	f("", `{"ts":1795629492123,"price":1,"volume":1}`)
	f("", `{"symbol":"AA PL","ts":1795629492123,"price":1,"volume":1}`)
	f("", `{"symbol":"`+strings.Repeat("A", 50)+`","ts":1795629492123,"price":1,"volume":1}`)
	f("", `{"symbol":"","ts":1795629492123,"price":1,"volume":1}`)
	f("", `{"symbol":7,"ts":1795629492123,"price":1,"volume":1}`)
	f("", rec(`"price":1,"volume":1`))
	f("", rec(`"ts":null,"price":1,"volume":1`))
	f("", rec(`"ts":[],"price":1,"volume":1`))
	f("", rec(`"ts":1795629492,"price":1,"volume":1`))
	f("", rec(`"ts":1795629492123456,"price":1,"volume":1`))
	f("", rec(`"ts":1795629492123456789,"price":1,"volume":1`))
	f("", rec(`"ts":-5,"price":1,"volume":1`))
	f("", rec(`"ts":1.795629492123e12,"price":1,"volume":1`))
	f("", rec(`"ts":"1795629492123","price":1,"volume":1`))
	f("", rec(`"ts":"2026-11-25 17:58:12Z","price":1,"volume":1`))
	f("", rec(`"ts":"2026-02-30T17:58:12Z","price":1,"volume":1`))
	f("", rec(`"ts":"1999-12-31T23:59:59Z","price":1,"volume":1`))
	f("", rec(`"ts":"2200-01-01T00:00:00Z","price":1,"volume":1`))
	f("", rec(`"ts":1795629492123,"price":"189.42","volume":1`))
	f("", rec(`"ts":1795629492123,"price":1,"volume":{"n":1}`))
	f("", rec(`"ts":1795629492123,"price":1,"volume":1,"bid":true`))
	f("", rec(`"ts":1795629492123,"price":1e309,"volume":1`))
	checkGolden(t, "decode_errors.golden", out.Bytes())
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", path, got)
	}
}

// TestDecodeTimestampsAgainstTimeFormat checks the RFC 3339 fast path
// against times written by time.Format, at random instants around the valid
// range, with random offsets, fraction lengths and Z or numeric UTC.
func TestDecodeTimestampsAgainstTimeFormat(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2210, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		sec := lo + rng.Int64N(hi-lo)
		if rng.IntN(10) == 0 { // near the bounds
			sec = []int64{946684800, 7258118400}[rng.IntN(2)] + rng.Int64N(200000) - 100000
		}
		nsec := rng.Int64N(1e9)
		off := rng.IntN(2*24*60-1) - (24*60 - 1) // minutes, ±23:59
		if rng.IntN(4) == 0 {
			off = 0
		}
		digits := rng.IntN(10)
		layout := "2006-01-02T15:04:05"
		if digits > 0 {
			layout += "." + strings.Repeat("0", digits)
		}
		layout += []string{"Z07:00", "-07:00"}[rng.IntN(2)]
		s := time.Unix(sec, nsec).In(time.FixedZone("", off*60)).Format(layout)

		// Format truncates the fraction to its digits; the tick truncates to ms.
		unit := int64(math.Pow10(9 - digits))
		wantMS := (sec*1e9 + nsec/unit*unit) / 1e6
		wantOK := wantMS >= time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() &&
			wantMS < time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

		rec := []byte(`{"symbol":"AAPL","ts":"` + s + `","price":1,"volume":1}`)
		var tk Tick
		err := d.Decode(nil, rec, &tk)
		switch {
		case wantOK && err != nil:
			t.Fatalf("%s: %v", s, err)
		case wantOK && tk.TS != wantMS:
			t.Fatalf("%s: ts %d, want %d", s, tk.TS, wantMS)
		case !wantOK && ReasonOf(err) != BadTimestamp:
			t.Fatalf("%s: %v, want bad_timestamp", s, err)
		}
	}
}

// TestDecodeNumbersAgainstStrconv checks the float fast path against
// strconv.ParseFloat on random decimal literals of every shape JSON allows.
func TestDecodeNumbersAgainstStrconv(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for range 50000 {
		var s string
		switch rng.IntN(3) {
		case 0: // decimal literal: -?int(.frac)?(e±exp)?
			s = strconv.Itoa(rng.IntN(10))
			if n := rng.IntN(20); n > 0 {
				s = strconv.Itoa(1+rng.IntN(9)) + digits(n)
			}
			if rng.IntN(2) == 0 {
				s += "." + digits(1+rng.IntN(20))
			}
			if rng.IntN(3) == 0 {
				s += []string{"e", "E", "e+", "e-", "E-"}[rng.IntN(5)] + strconv.Itoa(rng.IntN(40))
			}
		case 1: // shortest form of a random price-like value
			s = strconv.FormatFloat(float64(rng.IntN(1e7))/100, 'f', -1, 64)
		case 2: // any finite float
			x := math.Float64frombits(rng.Uint64())
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			s = strconv.FormatFloat(x, 'g', -1, 64)
		}
		if rng.IntN(2) == 0 && s[0] != '-' {
			s = "-" + s
		}
		want, err := strconv.ParseFloat(s, 64)
		var tk Tick
		derr := d.Decode(nil, []byte(`{"symbol":"AAPL","ts":1795629492123,"price":`+s+`,"volume":1}`), &tk)
		switch {
		case err != nil && ReasonOf(derr) != BadType:
			t.Fatalf("%s: strconv says %v, Decode %v", s, err, derr)
		case err == nil && derr != nil:
			t.Fatalf("%s: %v", s, derr)
		case err == nil && math.Float64bits(tk.Price) != math.Float64bits(want):
			t.Fatalf("%s: price %v, want %v", s, tk.Price, want)
		}
	}
}

func TestTimestampBounds(t *testing.T) {
	if want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(); minTS != want {
		t.Errorf("minTS = %d, want %d", minTS, want)
	}
	if want := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(); maxTS != want {
		t.Errorf("maxTS = %d, want %d", maxTS, want)
	}
}

// TestDecodeNestingLimit checks the limit is encoding/json's, to the level.
func TestDecodeNestingLimit(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	// open and close add per levels each.
	f := func(open, inner, close string, per, levels int, want Reason) {
		t.Helper()
		n := (levels - 1) / per // the tick object is one level
		rec := `{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"deep":` +
			strings.Repeat(open, n) + inner + strings.Repeat(close, n) + `}`
		if err := checkAgainstRef(t, d, 0, nil, []byte(rec)); ReasonOf(err) != want {
			t.Fatalf("%d levels of %s: %v, want %q", levels, open, err, want)
		}
	}
	f("[", "", "]", 1, 10000, OK)
	f("[", "", "]", 1, 10001, Malformed)
	f(`{"a":`, "1", "}", 1, 10000, OK)
	f(`{"a":`, "1", "}", 1, 10001, Malformed)
	f(`[1,{"a":`, "1", "}]", 2, 9999, OK)
	f(`[1,{"a":`, "1", "}]", 2, 10001, Malformed)

	// Closing brackets are matched at every level, across the words of the
	// bit stack: swap one pair deep inside.
	open := strings.Repeat(`[{"a":`, 100)
	close := []byte(strings.Repeat(`}]`, 100))
	for _, at := range []int{0, 63, 64, 65, 127, 128, 199} {
		bad := bytes.Clone(close)
		bad[at], bad[at^1] = bad[at^1], bad[at]
		rec := `{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":1,"deep":` + open + `2` + string(bad) + `}`
		if err := checkAgainstRef(t, d, 0, nil, []byte(rec)); ReasonOf(err) != Malformed {
			t.Errorf("brackets swapped at %d: %v, want malformed", at, err)
		}
	}
}

// TestDecodeInterning checks known symbols share the configured string and
// unknown ones are copied out of the record.
func TestDecodeInterning(t *testing.T) {
	syms := []string{strings.Clone("AAPL")}
	d := NewDecoder(syms, 0)
	for _, rec := range []string{canonical, `{"symbol":"\u0041APL","ts":1795629492123,"price":1,"volume":1}`} {
		var tk Tick
		if err := d.Decode(nil, []byte(rec), &tk); err != nil {
			t.Fatal(err)
		}
		if unsafe.StringData(tk.Symbol) != unsafe.StringData(syms[0]) {
			t.Errorf("%s: symbol %q is not the interned string", rec, tk.Symbol)
		}
	}
	rec := []byte(`{"symbol":"MSFT","ts":1795629492123,"price":1,"volume":1}`)
	var tk Tick
	if err := d.Decode(nil, rec, &tk); err != nil {
		t.Fatal(err)
	}
	copy(rec, strings.Repeat("x", len(rec)))
	if tk.Symbol != "MSFT" {
		t.Errorf("symbol %q changed with the record's buffer", tk.Symbol)
	}
}

func TestDecodeLeavesTickOnError(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	want := Tick{Symbol: "X", TS: 1, Price: 2, Volume: 3, Bid: 4, Ask: 5}
	got := want
	if err := d.Decode(nil, []byte(`{"symbol":"AAPL","ts":1795629492123,"price":1,"volume":"1"}`), &got); err == nil {
		t.Fatal("Decode accepted a string volume")
	}
	if got != want {
		t.Errorf("tick changed on error: %+v", got)
	}
}

func TestReasonOf(t *testing.T) {
	f := func(err error, want Reason) {
		t.Helper()
		if got := ReasonOf(err); got != want {
			t.Errorf("ReasonOf(%v) = %q, want %q", err, got, want)
		}
	}
	f(nil, OK)
	f(&DecodeError{Reason: BadSymbol}, BadSymbol)
	f(fmt.Errorf("partition 3: %w", &DecodeError{Reason: KeyMismatch}), KeyMismatch)
	f(errors.New("boom"), Malformed)
}

func TestDecodeAllocs(t *testing.T) {
	d := NewDecoder(testSymbols, 0)
	f := func(rec string) {
		t.Helper()
		b := []byte(rec)
		var tk Tick
		if err := d.Decode(nil, b, &tk); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = d.Decode([]byte("AAPL"), b, &tk) }); n != 0 {
			t.Errorf("Decode(%s): %v allocs, want 0", rec, n)
		}
	}
	f(canonical)
	f(`{"symbol":"AAPL","ts":1795629492123,"price":189.42,"volume":1200,"bid":189.41,"ask":189.43}`)
	f(`{"symbol":"AAPL","ts":"2026-11-25T13:58:12.123456789-04:00","price":0.123456789012345678,"volume":1e30}`)
	f(`{"symbol":"\u0041APL","ts":1795629492123,"price":1,"volume":1,"x":[{"y":[1,2,{}]}]}`)
}

var (
	benchRFC3339 = []byte(canonical)
	benchEpochMS = []byte(`{"symbol":"AAPL","ts":1795629492123,"price":189.42,"volume":1200,"bid":189.41,"ask":189.43}`)
)

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		rec  []byte
	}{{"rfc3339", benchRFC3339}, {"epoch_ms", benchEpochMS}} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder(testSymbols, 1<<20)
			key := []byte("AAPL")
			var tk Tick
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.rec)))
			for b.Loop() {
				if err := d.Decode(key, bc.rec, &tk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeEncodingJSON is the baseline: the same record through
// encoding/json and time.Parse.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	type jsonTick struct {
		Symbol string  `json:"symbol"`
		TS     string  `json:"ts"`
		Price  float64 `json:"price"`
		Volume float64 `json:"volume"`
		Bid    float64 `json:"bid"`
		Ask    float64 `json:"ask"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRFC3339)))
	var tk Tick
	for b.Loop() {
		var jt jsonTick
		if err := json.Unmarshal(benchRFC3339, &jt); err != nil {
			b.Fatal(err)
		}
		tm, err := time.Parse(time.RFC3339Nano, jt.TS)
		if err != nil {
			b.Fatal(err)
		}
		tk = Tick{Symbol: jt.Symbol, TS: tm.UnixMilli(), Price: jt.Price, Volume: jt.Volume, Bid: jt.Bid, Ask: jt.Ask}
	}
	_ = tk
}
