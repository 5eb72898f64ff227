package models

import (
	"math"
	"strconv"
	"time"
)

// TablePredictions is the lake table the predictions go to.
const TablePredictions = "predictions"

// PredictionRow is one model's prediction for one symbol at one tick: a
// row of the predictions table and a message of the live stream. Tags
// follow sinks/lake/rows.go: the timestamp is INT64 TIMESTAMP(MILLIS,
// isAdjustedToUTC=true), the one Athena reads; repeated strings are
// dictionary-encoded.
type PredictionRow struct {
	Symbol string `parquet:"symbol,dict"`
	// TS is the event time of the tick the prediction was made at, Unix ms;
	// the prediction is about TS + Horizon.
	TS           int64   `parquet:"ts,timestamp(millisecond:utc),delta"`
	Model        string  `parquet:"model,dict"`         // Spec.Name
	ModelVersion string  `parquet:"model_version,dict"` // Model.Version: which file made it
	Horizon      string  `parquet:"horizon,dict"`       // e.g. "10s"
	Value        float64 `parquet:"value"`              // in the model's target units (Model.Target)
	// KafkaPartition and KafkaOffset are where the tick the prediction was
	// made at came from, as in the lake's other tables: a lake file is named
	// for the offsets of its rows. The Predictor sets the offset (Observe's
	// offset); the lake writer sets the partition.
	KafkaPartition int32 `parquet:"kafka_partition"`
	KafkaOffset    int64 `parquet:"kafka_offset,delta"`
}

// AppendJSON appends the row as one JSON object, the live stream's message:
//
//	{"symbol":"AAPL","ts":"2026-11-25T14:31:07.250Z","model":"xgb","model_version":"1a2b…","horizon":"10s","value":0.42}
//
// It allocates nothing when dst has room. A non-finite value is null.
func AppendJSON(dst []byte, r *PredictionRow) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, r.Symbol)
	dst = append(dst, `,"ts":"`...)
	dst = time.UnixMilli(r.TS).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, `","model":`...)
	dst = appendString(dst, r.Model)
	dst = append(dst, `,"model_version":`...)
	dst = appendString(dst, r.ModelVersion)
	dst = append(dst, `,"horizon":`...)
	dst = appendString(dst, r.Horizon)
	dst = append(dst, `,"value":`...)
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendFloat(dst, r.Value, 'g', -1, 64)
	}
	return append(dst, '}')
}

// appendString writes a JSON string; symbols, names and versions are
// plain ASCII, but anything else is escaped correctly too.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
