package xgboost_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tickstream/tickstream/models/xgboost"
)

func readFixtureB(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// smallModel is the reg_logistic fixture cut to its first trees, as JSON
// and as UBJSON: seeds small enough for the fuzzer to mutate quickly.
func smallModel(tb testing.TB, trees int) (jsonData, ubjData []byte) {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFixtureB(tb, "xgboost/reg_logistic.json"), &doc); err != nil {
		tb.Fatal(err)
	}
	m := doc["learner"].(map[string]any)["gradient_booster"].(map[string]any)["model"].(map[string]any)
	m["trees"] = m["trees"].([]any)[:trees]
	m["tree_info"] = m["tree_info"].([]any)[:trees]
	m["iteration_indptr"] = m["iteration_indptr"].([]any)[:trees+1]
	jsonData, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	writeUBJ(&buf, doc)
	return jsonData, buf.Bytes()
}

// writeUBJ encodes a decoded JSON document the way xgboost does: keys as
// 'L' lengths, numeric arrays typed ('l' int32 or 'd' float32).
func writeUBJ(w *bytes.Buffer, v any) {
	putLen := func(n int) {
		w.WriteByte('L')
		binary.Write(w, binary.BigEndian, int64(n))
	}
	switch v := v.(type) {
	case nil:
		w.WriteByte('Z')
	case bool:
		if v {
			w.WriteByte('T')
		} else {
			w.WriteByte('F')
		}
	case float64:
		if v == math.Trunc(v) {
			w.WriteByte('L')
			binary.Write(w, binary.BigEndian, int64(v))
		} else {
			w.WriteByte('d')
			binary.Write(w, binary.BigEndian, float32(v))
		}
	case string:
		w.WriteByte('S')
		putLen(len(v))
		w.WriteString(v)
	case []any:
		ints, nums := true, len(v) > 0
		for _, e := range v {
			f, ok := e.(float64)
			nums = nums && ok
			ints = ints && ok && f == math.Trunc(f)
		}
		w.WriteByte('[')
		if !nums {
			for _, e := range v {
				writeUBJ(w, e)
			}
			w.WriteByte(']')
			return
		}
		if ints {
			w.WriteString("$l#")
		} else {
			w.WriteString("$d#")
		}
		putLen(len(v))
		for _, e := range v {
			if ints {
				binary.Write(w, binary.BigEndian, int32(e.(float64)))
			} else {
				binary.Write(w, binary.BigEndian, float32(e.(float64)))
			}
		}
	case map[string]any:
		w.WriteByte('{')
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			putLen(len(k))
			w.WriteString(k)
			writeUBJ(w, v[k])
		}
		w.WriteByte('}')
	}
}

// Our own UBJSON encoding of a JSON model loads to the same predictions:
// the two parsers build the same document.
func TestUBJSONRoundTrip(t *testing.T) {
	j, u := smallModel(t, 20)
	sameBits(t, "ubjson of the json", predictAll(t, u), predictAll(t, j))
	sameBits(t, "json as trimmed", predictAll(t, j), readNPY(t, "xgboost/reg_logistic.expected.npy").F32)
}

// Whatever the bytes, Parse returns a model or an error, never panics, and
// a model it returns predicts without panicking.
func FuzzParse(f *testing.F) {
	j, u := smallModel(f, 2)
	f.Add(j)
	f.Add(u)
	f.Add(j[:len(j)/2])
	f.Add(u[:len(u)/2])
	f.Add([]byte(`{"learner":{"learner_model_param":{"num_feature":"1","base_score":"NaN"},"objective":{"name":"binary:logistic"},"gradient_booster":{"name":"gbtree","model":{"trees":[{"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,-Infinity,1],"default_left":[true,0,0]}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgboost.Parse(data)
		if err != nil {
			return
		}
		if m.NumFeature() > 1<<20 {
			return // valid, but too big to allocate a row for here
		}
		row := make([]float32, m.NumFeature())
		out := make([]float32, m.NumOutput())
		if err := m.Predict(row, out); err != nil {
			t.Fatalf("a loaded model failed to predict: %v", err)
		}
	})
}
