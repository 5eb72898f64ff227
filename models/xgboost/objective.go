package xgboost

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// link is how an objective maps a margin (the sum of leaves) to a
// prediction, and how base_score, stored in prediction space, maps back.
type link uint8

const (
	linkIdentity link = iota // margin is the prediction
	linkLogistic             // sigmoid; base_score is a probability
	linkLog                  // exp; base_score is a mean (Poisson, gamma, Tweedie)
	linkHinge                // 1 when margin > 0, else 0
	linkSoftprob             // softmax over the output groups
	linkSoftmax              // index of the largest margin
)

// objectives lists the objectives the package predicts for, by the name
// xgboost writes in learner.objective.name.
var objectives = map[string]link{
	"reg:squarederror":     linkIdentity,
	"reg:linear":           linkIdentity, // the pre-1.0 name of squarederror
	"reg:squaredlogerror":  linkIdentity,
	"reg:pseudohubererror": linkIdentity,
	"reg:absoluteerror":    linkIdentity,
	"reg:quantileerror":    linkIdentity,
	"binary:logitraw":      linkIdentity,
	"rank:pairwise":        linkIdentity,
	"rank:ndcg":            linkIdentity,
	"rank:map":             linkIdentity,
	"binary:logistic":      linkLogistic,
	"reg:logistic":         linkLogistic,
	"binary:hinge":         linkHinge,
	"count:poisson":        linkLog,
	"reg:gamma":            linkLog,
	"reg:tweedie":          linkLog,
	"multi:softprob":       linkSoftprob,
	"multi:softmax":        linkSoftmax,
}

// baseMargin maps base_score to the margin the sum starts from, in float32
// as xgboost's ObjFunction::ProbToMargin does.
func (l link) baseMargin(score float32) (float32, error) {
	switch l {
	case linkLogistic:
		// xgboost clamps the probability to keep the logit finite.
		p := min(max(score, 1e-6), 1-1e-6)
		return -float32(math.Log(float64(float32(1)/p - 1))), nil
	case linkLog:
		if !(score > 0) {
			return 0, fmt.Errorf("base_score %v: must be > 0 for a log-link objective", score)
		}
		return float32(math.Log(float64(score))), nil
	}
	return score, nil
}

// parseBaseScore reads learner_model_param.base_score: a scalar string up to
// xgboost 3.0 ("5E-1"), an array in a string from 3.1 ("[5E-1]", one entry
// per output group or one for all).
func parseBaseScore(s string, groups int) ([]float32, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		if !strings.HasSuffix(t, "]") {
			return nil, fmt.Errorf("base_score %q: unterminated array", s)
		}
		t = t[1 : len(t)-1]
	}
	parts := strings.Split(t, ",")
	out := make([]float32, 0, len(parts))
	for _, part := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil {
			return nil, fmt.Errorf("base_score %q: %w", s, err)
		}
		out = append(out, float32(f))
	}
	switch {
	case len(out) == groups:
		return out, nil
	case len(out) == 1:
		all := make([]float32, groups)
		for i := range all {
			all[i] = out[0]
		}
		return all, nil
	}
	return nil, fmt.Errorf("base_score %q: %d values for %d output groups", s, len(out), groups)
}

// sigmoid is xgboost's common::Sigmoid: float32 throughout, the exponent
// clamped so expf cannot overflow.
func sigmoid(x float32) float32 {
	e := expf(min(-x, 88.7))
	return 1 / (e + 1)
}

// expf is a float32 exp: the float64 result rounded once, which equals a
// correctly rounded expf (glibc's is within 0.502 ulp of that).
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// transform turns the margins of one row into predictions, in place for
// the element-wise links; softmax writes the class index to out[0].
func (l link) transform(margin []float32) {
	switch l {
	case linkLogistic:
		for i, x := range margin {
			margin[i] = sigmoid(x)
		}
	case linkLog:
		for i, x := range margin {
			margin[i] = expf(x)
		}
	case linkHinge:
		for i, x := range margin {
			if x > 0 {
				margin[i] = 1
			} else {
				margin[i] = 0
			}
		}
	case linkSoftprob:
		// xgboost's common::Softmax: subtract the max, expf, sum in double.
		wmax := margin[0]
		for _, x := range margin[1:] {
			wmax = max(wmax, x)
		}
		var sum float64
		for i, x := range margin {
			margin[i] = expf(x - wmax)
			sum += float64(margin[i])
		}
		for i := range margin {
			margin[i] /= float32(sum)
		}
	case linkSoftmax:
		best := 0
		for i, x := range margin {
			if x > margin[best] {
				best = i
			}
		}
		margin[0] = float32(best)
	}
}

func nan64() float64         { return math.NaN() }
func nan32() float32         { return float32(math.NaN()) }
func inf64(s int) float64    { return math.Inf(s) }
func isRange(err error) bool { return errors.Is(err, strconv.ErrRange) }
