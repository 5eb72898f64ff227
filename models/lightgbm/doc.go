// Package lightgbm loads gradient-boosted tree models saved by LightGBM's
// Booster.save_model in its text format (lightgbm 4.x, "version=v4") and
// predicts with the numbers lightgbm's own predict gives.
//
// Parity comes from doing what LightGBM's predictor does, in its precision:
// a float32 feature is widened to float64 and compared with the node's
// float64 threshold (left when x ≤ threshold); a value within
// kZeroThreshold (1e-35) of zero is zero, as the predictor drops it from
// the row; and missing values follow the node's decision_type: a NaN is 0
// unless the node's missing type is NaN, and a node whose missing type is
// Zero (NaN or 0) or NaN (NaN) sends such a value to its default side.
// Leaves are summed in float64 in file order from 0 (LightGBM folds the
// initial score and each tree's shrinkage into the leaf values); binary
// models then apply 1/(1+exp(−sigmoid·raw)) with the file's sigmoid.
//
// Like models/xgboost, a row is first expanded into the columns the splits
// read, the missing-value rule of each already applied (columns.go), so the
// walk is one comparison per node; batches go tree by tree over blocks of
// rows. Nothing is allocated per call.
//
// The package must not do I/O beyond reading the file it is asked to load,
// log, or know about ticks or features: it maps rows of float32 to one
// output each. What it does not predict exactly it refuses with an error
// rather than predicting wrongly: categorical splits, linear trees,
// multiclass models, random forests (average_output), and objectives other
// than regression and binary.
package lightgbm
