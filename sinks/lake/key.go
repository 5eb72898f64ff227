package lake

import (
	"strconv"
	"time"
)

const (
	msPerHour = int64(time.Hour / time.Millisecond)
	// maxPartitionMS is 10000-01-01T00:00:00Z: Hive date folders and
	// Athena's date projection know four-digit years only.
	maxPartitionMS = 253402300800000
	offsetDigits   = 20
)

// hasTime reports whether ms can name a partition. Zero means "no event
// time"; before 1970 or after year 9999 cannot be a real tick.
func hasTime(ms int64) bool { return ms > 0 && ms < maxPartitionMS }

// hourOf returns the partition hour (hours since the epoch) of an event time.
// A time that cannot name a partition lands in the first hour of 1970 rather
// than in a folder no query engine would read.
func hourOf(ms int64) int64 {
	if !hasTime(ms) {
		return 0
	}
	return ms / msPerHour
}

// appendKey appends the object key of one file:
// <table>/date=YYYY-MM-DD/hour=HH/<topic>+<partition>+<min>-<max>.parquet,
// offsets zero-padded to 20 digits so keys sort by offset. The offsets make
// the key unique and reproducible from the records alone.
func appendKey(dst []byte, table string, hour int64, topic string, partition int32, minOff, maxOff int64) []byte {
	t := time.UnixMilli(hour * msPerHour).UTC()
	dst = append(dst, table...)
	dst = append(dst, "/date="...)
	dst = t.AppendFormat(dst, "2006-01-02")
	dst = append(dst, "/hour="...)
	dst = t.AppendFormat(dst, "15")
	dst = append(dst, '/')
	dst = append(dst, topic...)
	dst = append(dst, '+')
	dst = strconv.AppendInt(dst, int64(partition), 10)
	dst = append(dst, '+')
	dst = appendPadded(dst, minOff)
	dst = append(dst, '-')
	dst = appendPadded(dst, maxOff)
	return append(dst, ".parquet"...)
}

// appendPadded appends v, a Kafka offset, in offsetDigits digits. Offsets
// are never negative; one that is prints as zeros rather than as a '/'.
func appendPadded(dst []byte, v int64) []byte {
	v = max(v, 0)
	var buf [offsetDigits]byte
	for i := len(buf) - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:]...)
}
