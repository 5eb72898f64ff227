// Package xgboost loads gradient-boosted tree models saved by XGBoost's
// Booster.save_model (text JSON and UBJSON, xgboost 2.x and 3.x) and predicts
// with the numbers xgboost's own predict gives.
//
// Parity with xgboost comes from doing what its CPU predictor does, in the
// same precision: features are compared as float32 against float32 split
// conditions (left when x < condition, strictly; NaN follows the node's
// default direction), and leaf values are summed in float32, tree by tree in
// file order, starting from the base margin (base_score mapped through the
// objective's link). The objective's transform (identity, sigmoid, exp,
// softmax) is then applied in float32.
//
// Trees are re-laid out at load into one flat array of 12-byte nodes whose
// right child directly follows the left one, so a prediction touches little
// memory and allocates nothing.
//
// The package must not do I/O beyond reading the file it is asked to load,
// log, or know about ticks or features: it maps rows of float32 to outputs.
// Categorical splits and vector-leaf (multi-target) trees are refused with a
// clear error rather than predicted wrongly.
package xgboost
