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
// Speed comes from layout. At load each tree becomes a complete binary heap
// of 8-byte splits (a leaf above the last level is repeated below itself),
// so a walk is depth steps of i = 2i + (x ≥ cond) with no branch on the
// data; trees too deep and thin to pad keep a sparse layout. Before the
// walk a row is expanded into the columns the splits read, NaN already
// turned to the side each split sends it (columns.go). Batches go tree by
// tree over blocks of 64 rows, as xgboost's CPU predictor does, so a tree
// stays in cache while the block walks it. Nothing is allocated per call.
//
// The package must not do I/O beyond reading the file it is asked to load,
// log, or know about ticks or features: it maps rows of float32 to outputs.
// Categorical splits and vector-leaf (multi-target) trees are refused with a
// clear error rather than predicted wrongly.
package xgboost
