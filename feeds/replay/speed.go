package replay

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSpeed reads a replay speed: "max" (as fast as possible, returned as
// 0) or a factor with an x: "1x" is the recorded pace, "10x" ten times
// faster, "0.5x" half as fast.
func ParseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(s, "x")
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(f > 0) || math.IsInf(f, 0) || f > 1e6 {
		return 0, fmt.Errorf("replay speed %q: want max or a factor such as 1x, 10x, 0.5x (up to 1000000x)", s)
	}
	return f, nil
}
