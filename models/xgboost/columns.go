package xgboost

import (
	"cmp"
	"math"
	"slices"
)

// Before the trees are walked, a row is expanded into the columns the
// splits compare, so that the walk needs no test for NaN: a split whose
// missing values go left reads a column where NaN stays NaN (x ≥ cond is
// false for NaN: left), a split whose missing values go right reads a
// column where NaN became +Inf (x ≥ cond is true for any cond that is not
// NaN, which load refuses: right). Every other value is the same in both,
// and x ≥ cond is exactly when xgboost's float32 `x < cond` is false.
//
// A column is a (feature, side NaN goes) pair that some split uses; a model
// seldom uses a feature both ways, so an expanded row stays short.

// column is one column of the expanded row.
type column struct {
	feat int32   // the row's value it holds
	nan  float32 // what a missing value becomes: NaN or +Inf
}

// colID names a column while trees are read: feature·2, plus 1 when
// missing values go right.
type colID uint32

func (t *rawTree) colID(i int32) colID {
	c := colID(t.feat[i]) * 2
	if t.defaultLeft[i] == 0 {
		c++
	}
	return c
}

// numberColumns sets m.cols to the columns the trees' splits use, by
// feature, and returns the number of each.
func (m *Model) numberColumns(trees []*rawTree) map[colID]uint32 {
	num := map[colID]uint32{}
	for _, t := range trees {
		for _, i := range t.shape.order {
			if t.left[i] != -1 {
				num[t.colID(i)] = 0
			}
		}
	}
	ids := make([]colID, 0, len(num))
	for c := range num {
		ids = append(ids, c)
	}
	slices.SortFunc(ids, cmp.Compare)
	m.cols = make([]column, len(ids))
	for j, c := range ids {
		num[c] = uint32(j)
		m.cols[j] = column{feat: int32(c / 2), nan: float32(math.NaN())}
		if c%2 == 1 {
			m.cols[j].nan = float32(math.Inf(1))
		}
	}
	return num
}

// expand writes the columns of row into xs.
func (m *Model) expand(row, xs []float32) {
	for j, c := range m.cols {
		x := row[c.feat]
		if x != x {
			x = c.nan
		}
		xs[j] = x
	}
}
