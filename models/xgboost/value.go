package xgboost

import (
	"fmt"
	"strings"
)

// value is a parsed JSON or UBJSON document node. Both parsers build the
// same tree, so the model is built by one piece of code whichever format
// the file is in.
//
// Arrays of numbers, which is what a model mostly is, are kept as parallel
// slices instead of one value per element: a model of a few hundred trees
// has millions of them. Each number is kept both as float64 and as the
// float32 that is nearest to its text (or is its UBJSON bits): rounding the
// float64 to float32 instead would round twice and can miss the float32
// xgboost wrote by one ulp.
type value struct {
	kind kind
	b    bool
	f64  float64
	f32  float32
	str  string
	nums []float64 // kind == kindArray and every element is a number
	f32s []float32 // parallel to nums
	arr  []value   // kind == kindArray otherwise
	obj  []member  // kind == kindObject
}

type member struct {
	key string
	val value
}

type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "bool", "number", "string", "array", "object"}[k]
}

// maxDepth bounds nesting; an xgboost model is 7 levels deep. It keeps a
// hostile file from exhausting the stack.
const maxDepth = 64

// appendElem adds v to the array a, keeping the numeric fast form while it
// holds.
func (a *value) appendElem(v value) {
	if v.kind == kindNumber && a.arr == nil {
		a.nums = append(a.nums, v.f64)
		a.f32s = append(a.f32s, v.f32)
		return
	}
	if a.arr == nil && len(a.nums) > 0 {
		a.arr = make([]value, len(a.nums), len(a.nums)+1)
		for i := range a.nums {
			a.arr[i] = value{kind: kindNumber, f64: a.nums[i], f32: a.f32s[i]}
		}
		a.nums, a.f32s = nil, nil
	}
	a.arr = append(a.arr, v)
}

// len is the number of elements of an array.
func (a *value) len() int {
	if a.arr != nil {
		return len(a.arr)
	}
	return len(a.nums)
}

// get returns the member key of an object, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for i := range v.obj {
		if v.obj[i].key == key {
			return &v.obj[i].val
		}
	}
	return nil
}

// path walks nested objects; the error names the first missing step.
func (v *value) path(keys ...string) (*value, error) {
	cur := v
	for i, k := range keys {
		next := cur.get(k)
		if next == nil {
			where := strings.Join(keys[:i+1], ".")
			if cur.kind != kindObject {
				return nil, fmt.Errorf("%s: parent is a %s, not an object", where, cur.kind)
			}
			return nil, fmt.Errorf("%s: missing", where)
		}
		cur = next
	}
	return cur, nil
}

// text returns a string member; xgboost writes every learner parameter as
// a string, even numbers.
func (v *value) text(name string) (string, error) {
	if v.kind != kindString {
		return "", fmt.Errorf("%s: want a string, got a %s", name, v.kind)
	}
	return v.str, nil
}

// ints returns an array of integers (or, for old files, booleans as 0/1).
func (v *value) ints(name string) ([]int64, error) {
	if v.kind != kindArray {
		return nil, fmt.Errorf("%s: want an array, got a %s", name, v.kind)
	}
	out := make([]int64, v.len())
	if v.arr == nil {
		for i, f := range v.nums {
			if f != float64(int64(f)) {
				return nil, fmt.Errorf("%s[%d]: want an integer, got %v", name, i, f)
			}
			out[i] = int64(f)
		}
		return out, nil
	}
	for i := range v.arr {
		switch e := &v.arr[i]; e.kind {
		case kindBool:
			if e.b {
				out[i] = 1
			}
		case kindNumber:
			if e.f64 != float64(int64(e.f64)) {
				return nil, fmt.Errorf("%s[%d]: want an integer, got %v", name, i, e.f64)
			}
			out[i] = int64(e.f64)
		default:
			return nil, fmt.Errorf("%s[%d]: want a number, got a %s", name, i, e.kind)
		}
	}
	return out, nil
}

// floats returns an array of numbers as float32.
func (v *value) floats(name string) ([]float32, error) {
	if v.kind != kindArray {
		return nil, fmt.Errorf("%s: want an array, got a %s", name, v.kind)
	}
	if v.arr == nil {
		if v.f32s == nil {
			return []float32{}, nil
		}
		return v.f32s, nil
	}
	out := make([]float32, len(v.arr))
	for i := range v.arr {
		if v.arr[i].kind != kindNumber {
			return nil, fmt.Errorf("%s[%d]: want a number, got a %s", name, i, v.arr[i].kind)
		}
		out[i] = v.arr[i].f32
	}
	return out, nil
}
